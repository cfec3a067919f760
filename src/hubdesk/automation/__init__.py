"""Time-based and automatic ticket changes: assignment, auto-close, reminders, snooze, split."""
