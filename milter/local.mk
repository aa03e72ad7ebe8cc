# milter: see Makefile.am for the conventions.
