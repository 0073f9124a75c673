// Package longlivedcompat drives the long-lived connection examples
// (examples/longlived: WebSockets with gobwas/ws, gorilla and coder, a chat,
// server-sent events, long-polls) with real clients, on a hibernating
// pollnet listener, and checks that nothing is left after.
package longlivedcompat
