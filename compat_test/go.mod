module github.com/pollnet/pollnet/compat_test

go 1.26.0

require github.com/pollnet/pollnet v0.0.0

replace github.com/pollnet/pollnet => ../
