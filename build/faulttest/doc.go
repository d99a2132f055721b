// Package faulttest holds the sync fault tests of issue 5: a real cloud and
// a real terminal, each a child process built from its main, with the
// embedded broker or a real Mosquitto between them, through a loopback TCP
// proxy that the tests cut, stall and throttle. The broker, the cloud and the
// terminal are killed (SIGTERM or SIGKILL) mid-sync and started again; after
// each fault every deposit is on the cloud's timeline exactly once and the
// cloud's acked_seq reaches the terminal's last seq (no gap, seq order kept).
//
// The package has no code of its own: only tests.
package faulttest
