"""The supervisor's side of lone working: the live board, alerts, timelines, past sessions."""
