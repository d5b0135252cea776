"""The command line: each callhooks command, and the demo."""
