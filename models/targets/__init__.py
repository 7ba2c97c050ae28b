"""Monthly targets per person and per department: the rules of a target, who sets whose, the
month's targets of a department tree, saving a list of them, and importing them from a file."""
