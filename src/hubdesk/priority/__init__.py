"""Priority keywords: the words that raise or lower a new ticket's priority, admin-editable."""
