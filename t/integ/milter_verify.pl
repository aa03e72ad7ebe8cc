#!/usr/bin/perl
# SPDX-License-Identifier: MIT
# Verifies a message's rsa-sha256 DKIM signatures with Mail::DKIM, the
# public keys handed over in a file of "NAME TXT-VALUE" lines (DNS lookups
# are replaced).  Prints "ALG RESULT d=D s=S" per signature; exits 0 when
# there is at least one rsa-sha256 signature and each of them passes.
# (Debian 12's Mail::DKIM has no ed25519: those are listed, not judged.)
#
#   milter_verify.pl KEYS.txt MESSAGE.eml
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Net::DNS::RR;

my ($keyfile, $msgfile) = @ARGV;
my %keys;
open(my $kf, '<', $keyfile) or die "$keyfile: $!";
while (<$kf>) {
	chomp;
	my ($name, $txt) = split(/ /, $_, 2);
	$name =~ s/\.$//;
	$keys{lc $name} = $txt;
}
{
	no warnings 'redefine';
	*Mail::DKIM::DNS::query = sub {
		my ($name, $type) = @_;
		$name =~ s/\.$//;
		my $txt = $keys{lc $name};
		if (!defined $txt) { $@ = 'NXDOMAIN'; return; }
		return Net::DNS::RR->new(
		    name => $name, type => 'TXT', txtdata => $txt);
	};
}
my $v = Mail::DKIM::Verifier->new();
open(my $mf, '<', $msgfile) or die "$msgfile: $!";
binmode $mf;
while (my $line = <$mf>) {
	$line =~ s/\r?\n$/\r\n/;
	$v->PRINT($line);
}
$v->CLOSE;
my ($nrsa, $ok) = (0, 1);
foreach my $sig ($v->signatures) {
	my $alg = $sig->algorithm;
	my $res = $sig->result;
	printf "%s %s d=%s s=%s%s\n", $alg, $res, $sig->domain,
	    $sig->selector,
	    $sig->result_detail ne $res ? " (" . $sig->result_detail . ")" : "";
	next unless $alg eq 'rsa-sha256';
	$nrsa++;
	$ok = 0 unless $res eq 'pass';
}
exit($nrsa > 0 && $ok ? 0 : 1);
