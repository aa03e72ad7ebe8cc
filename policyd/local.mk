# policyd: see Makefile.am for the conventions.
