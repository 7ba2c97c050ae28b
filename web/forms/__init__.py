"""The admin forms as typed: their fields as text, read into the values models/ saves."""
