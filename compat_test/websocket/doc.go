// Package websocketcompat runs github.com/gorilla/websocket and
// github.com/coder/websocket echo servers, unchanged, over net/http's Hijack
// on pollnet listeners, with hibernation on (pollnet.Hibernate) and off.
//
// A WebSocket connection is hijacked, so it never hibernates however long it
// idles; but the TCP connection before the upgrade is plain HTTP/1 and may.
// The suites check both: an upgrade arriving on a connection that had
// hibernated after a plain request, and idle pauses inside a WebSocket
// session that must not park.
package websocketcompat
