"""Showing a service's refusal on the form that was posted."""


def attach_service_errors(form, errors: dict) -> None:
    """Put the errors a service function answered (the same ones the sync API sends) on the form's fields.

    Errors for names the form has no field for are shown at the top of the form.
    """
    for name, messages in errors.items():
        flat = flatten_messages(messages)
        target = form._fields.get(name)
        if target is not None:
            target.errors = list(target.errors or []) + flat
        else:
            form.form_errors.extend(flat)


def flatten_messages(messages) -> list[str]:
    """marshmallow's nested error messages as a flat list of sentences."""
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in flatten_messages(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in flatten_messages(value)]
    return [str(messages)]
