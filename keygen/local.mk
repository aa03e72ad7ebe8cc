# keygen: see Makefile.am for the conventions.
