"""What handlers and the process share: settings, the database and its typed models, the unit of work
of one file, business calendars, message templates and shipped files."""
