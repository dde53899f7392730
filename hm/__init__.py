"""hm: health-monitor events, actions and tables, and the persistent log streams shared with trace."""
