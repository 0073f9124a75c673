package bytebuffer_test

import (
	"fmt"

	"github.com/pollnet/pollnet/gnet/pkg/pool/bytebuffer"
)

func Example() {
	b := bytebuffer.Get()
	b.WriteString("pooled")
	fmt.Println(b.String(), b.Len())
	bytebuffer.Put(b)
	// Output: pooled 6
}
