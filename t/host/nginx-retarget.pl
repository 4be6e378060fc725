#!/usr/bin/perl
# nginx-retarget.pl FILE.t...: rewrite nginx-tests files in place so that
# the servers the builtin HTTP/2 serves are served by h2x instead.
#
#   listen ADDR ... http2 ...;   ->  listen ADDR ...;  and "h2x on;" in
#                                    every server block listening on ADDR
#                                    (the builtin's http2 flag belongs to
#                                    the address, h2x's switch to a server)
#   http2_max_concurrent_streams ->  h2x_max_concurrent_streams
#   http2_chunk_size             ->  h2x_chunk_size
#   http2_body_preread_size      ->  h2x_body_preread_size
#   http2_recv_buffer_size       ->  h2x_recv_buffer_size
#   http2_max_field_size         ->  h2x_max_field_size
#   http2_max_header_size        ->  h2x_max_header_size
#   $http2                       ->  $h2x (same values: "h2", "h2c", "")
#
# Everything else (server push directives included) is left as it is; the
# file still needs nginx's own http_v2 module, which stays loaded.
use strict;
use warnings;

my %directive = map { ("http2_$_" => "h2x_$_") } qw(
    max_concurrent_streams chunk_size body_preread_size recv_buffer_size
    max_field_size max_header_size
);

for my $file (@ARGV) {
    open my $in, '<', $file or die "$file: $!\n";
    my @lines = <$in>;
    close $in;

    # pass 1: addresses that the builtin serves with HTTP/2
    my %h2addr;
    for (@lines) {
        $h2addr{$1} = 1 if /^\s*listen\s+(\S+)[^;]*\shttp2[\s;]/;
    }

    # pass 2: rewrite; "h2x on;" once per server block on such an address
    my ($in_server, $done) = (0, 0);
    for (@lines) {
        if (/^\s*server\s*\{/) {
            ($in_server, $done) = (1, 0);
        }

        if (/^(\s*)listen\s+(\S+)/ && $in_server) {
            my ($indent, $addr) = ($1, $2);
            $addr =~ s/;$//;
            s/\s+http2(?=[\s;])//;
            if ($h2addr{$addr} && !$done) {
                s/\n$/ h2x on;\n/;
                $done = 1;
            }
        }

        for my $d (keys %directive) {
            s/(^|\s)\Q$d\E(?=\s)/$1$directive{$d}/g;
        }

        s/\$http2\b/\$h2x/g;
        s/\$\{http2\}/\${h2x}/g;
    }

    open my $out, '>', $file or die "$file: $!\n";
    print $out @lines;
    close $out;
}
