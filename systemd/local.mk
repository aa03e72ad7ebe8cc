# systemd/: a unit per daemon, tmpfiles.d (the socket and state folders)
# and sysusers.d (the relaykit user).  The units are templates: make
# substitutes the configured sbindir and sysconfdir, so a --prefix=/usr/local
# install gets units that start /usr/local/sbin/relaykit-*.  The folders
# come from configure (--with-systemdsystemunitdir, --with-tmpfilesdir,
# --with-sysusersdir; "no" leaves that part out).
RK_UNITS = systemd/relaykit-milter.service systemd/relaykit-policyd.service \
	systemd/relaykit-eventd.service systemd/relaykit-webhookd.service \
	systemd/relaykit-dnsctl.service
EXTRA_DIST += $(RK_UNITS:%=%.in) systemd/relaykit.tmpfiles \
	systemd/relaykit.sysusers
CLEANFILES += $(RK_UNITS)
# Built by "make" too, so a broken template shows before install.
noinst_DATA = $(RK_UNITS)

$(RK_UNITS): %: $(srcdir)/%.in Makefile
	@$(MKDIR_P) systemd
	$(AM_V_GEN)sed -e 's|@sbindir[@]|$(sbindir)|g' \
		-e 's|@sysconfdir[@]|$(sysconfdir)|g' $< >$@.tmp && mv $@.tmp $@

if HAVE_SYSTEMDUNITDIR
systemdsystemunit_DATA = $(RK_UNITS)
endif
# tmpfiles.d and sysusers.d: one file each, named relaykit.conf there;
# an empty folder (configure said "no") installs nothing.
install-data-hook:
	if test -n '$(tmpfilesdir)'; then \
		$(MKDIR_P) '$(DESTDIR)$(tmpfilesdir)' && \
		$(INSTALL_DATA) $(srcdir)/systemd/relaykit.tmpfiles \
			'$(DESTDIR)$(tmpfilesdir)/relaykit.conf'; fi
	if test -n '$(sysusersdir)'; then \
		$(MKDIR_P) '$(DESTDIR)$(sysusersdir)' && \
		$(INSTALL_DATA) $(srcdir)/systemd/relaykit.sysusers \
			'$(DESTDIR)$(sysusersdir)/relaykit.conf'; fi
uninstall-hook:
	if test -n '$(tmpfilesdir)'; then \
		rm -f '$(DESTDIR)$(tmpfilesdir)/relaykit.conf'; fi
	if test -n '$(sysusersdir)'; then \
		rm -f '$(DESTDIR)$(sysusersdir)/relaykit.conf'; fi

# The .deb (debian/) installed on this machine over Debian's Postfix, the
# units' command lines run as their user, then removed without a trace.
INTEG_TESTS += t/integ/deb_install.t
EXTRA_DIST += debian
