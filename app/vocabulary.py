"""Fixed vocabularies (kinds, outcomes, statuses) as enums that carry their labels.

A member *is* its stored string (`StrEnum`), so columns, JSON, comparisons and templates see the
same values as before ("alarm", "false_alarm"); the words people read sit beside each value, once.
"""
from enum import StrEnum


class LabelledStrEnum(StrEnum):
    """Members are declared as `NAME = "stored value", "What people read"`."""

    label: str

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]

    @classmethod
    def labels(cls) -> dict[str, str]:
        """{stored value: label}, in declaration order."""
        return {member.value: member.label for member in cls}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """[(stored value, label)], in declaration order: for select boxes and radio buttons."""
        return [(member.value, member.label) for member in cls]

    @classmethod
    def label_of(cls, value: str | None, default: str | None = None) -> str:
        """The label of a stored value; an unknown value (an old row, a newer phone) is shown as it is."""
        try:
            return cls(value).label
        except ValueError:
            return default if default is not None else (value or "")
