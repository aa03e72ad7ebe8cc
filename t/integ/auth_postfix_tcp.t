# SPDX-License-Identifier: MIT
# auth_postfix.t with Postfix reaching relaykit-policyd's SASL side over
# TCP (smtpd_sasl_path = inet:...): the lockout must reset the
# connection, or smtpd's next login on it would fail too.
AUTH_SASL=tcp
. "$top_srcdir/t/integ/auth_postfix.t"
