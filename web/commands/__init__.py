"""What people do to orders, one module per business area, shared by the JSON API and the pages:
each command checks role, scope and the person's fields, then hands the change to the order's
workflow (principle 1), whose validator checks again against its own state."""
