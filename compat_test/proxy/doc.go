// Package proxycompat runs net/http/httputil.ReverseProxy, unchanged, on
// pollnet at both ends: the proxy is served on a pollnet listener, its
// Transport dials with pollnet.Dialer.DialContext, and the upstream it
// forwards to is served on a pollnet listener too. With hibernation on, the
// proxy's idle keep-alive connections to the upstream hibernate on the
// upstream's listener and wake for the next forwarded request.
package proxycompat
