-- SPDX-License-Identifier: MIT
-- miltertest script for t/integ/milter_miltertest.t: talks the milter
-- protocol to relaykit-milter directly (no Postfix) and prints one
-- "NAME=VALUE" line per observation for the shell test to judge.
-- Several messages share one connection, so per-message state must not
-- leak from one to the next.
conn = mt.connect(os.getenv("SOCK"), 40, 0.25)
if conn == nil then error "connect failed" end
-- a client in mail.trustedNetworks (miltertest's default is a stranger,
-- whose mail milter.outboundOnly lets pass untouched)
mt.conninfo(conn, "client.example", "127.0.0.1")
mt.helo(conn, "client.example")

local function say(name, v) print(name .. "=" .. tostring(v)) end

local function message(id, headers, body)
	mt.macro(conn, SMFIC_MAIL, "i", id)
	mt.mailfrom(conn, "sender@example.net")
	mt.getreply(conn)
	for _, h in ipairs(headers) do mt.header(conn, h[1], h[2]) end
	mt.eoh(conn)
	local r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then return r end
	if body then mt.bodystring(conn, body) end
	mt.eom(conn)
	return mt.getreply(conn)
end

-- 1: signed, the signature inserted at end of message
local r = message("MT1", { { "From", " A <a@rsa.example>" },
	{ "Subject", " one" } }, "body\r\n")
say("sign_reply_accept", r == SMFIR_ACCEPT)
say("sign_inserted", mt.eom_check(conn, MT_HDRINSERT, "DKIM-Signature"))
say("sign_value", string.gsub(mt.getheader(conn, "DKIM-Signature", 0) or "",
	"%s+", " "))
-- 2: no From: refused at end of headers with a reply code
say("nofrom_replycode", message("MT2", { { "Subject", " two" } }) ==
	SMFIR_REPLYCODE)
-- 3: two From: refused
say("twofrom_replycode", message("MT3", { { "From", " a@rsa.example" },
	{ "From", " b@rsa.example" } }) == SMFIR_REPLYCODE)
-- 4: unconfigured domain: accepted at end of headers, unsigned
say("other_accept", message("MT4", { { "From", " a@other.example" } }) ==
	SMFIR_ACCEPT)
-- 5: a message aborted half-way, then a good one on the same connection
mt.macro(conn, SMFIC_MAIL, "i", "MT5")
mt.mailfrom(conn, "sender@example.net")
mt.getreply(conn)
mt.header(conn, "From", " a@rsa.example")
mt.eoh(conn)
mt.getreply(conn)
mt.bodystring(conn, "partial")
mt.abort(conn)
r = message("MT6", { { "From", " c@rsa.example" } }, "x\r\n")
say("after_abort_accept", r == SMFIR_ACCEPT)
say("after_abort_inserted", mt.eom_check(conn, MT_HDRINSERT,
	"DKIM-Signature"))
mt.disconnect(conn)
