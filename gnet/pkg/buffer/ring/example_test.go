package ring_test

import (
	"fmt"

	"github.com/pollnet/pollnet/gnet/pkg/buffer/ring"
)

func Example() {
	rb := ring.New(4)
	rb.WriteString("hello, ") // grows past 4 bytes
	rb.WriteString("world")
	head, tail := rb.Peek(5)
	fmt.Printf("%s%s\n", head, tail)
	rb.Discard(7)
	fmt.Println(string(rb.Bytes()), rb.Buffered())
	// Output:
	// hello
	// world 5
}
