// Package fasthttpcompat runs github.com/valyala/fasthttp, unchanged, on
// pollnet listeners: fasthttp's Server.Serve(pollnetListener), which is
// exactly what fasthttp.Serve(pollnetListener, handler) runs.
//
// Hibernation is net/http's (pollnet installs a net/http ConnState hook);
// fasthttp has its own server loop, so its connections never hibernate, with
// a short IdleGrace or not. The suites check that everything works and that
// Parks stays 0.
package fasthttpcompat
