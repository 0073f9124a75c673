package goroutine_test

import (
	"fmt"
	"sync"

	"github.com/pollnet/pollnet/gnet/pkg/pool/goroutine"
)

// Work handed off from an event loop runs on the shared pool.
func Example() {
	var wg sync.WaitGroup
	results := make([]int, 4)
	for i := range results {
		wg.Add(1)
		if err := goroutine.DefaultWorkerPool.Submit(func() {
			defer wg.Done()
			results[i] = i * i
		}); err != nil {
			wg.Done()
			fmt.Println("submit:", err)
		}
	}
	wg.Wait()
	fmt.Println(results)
	// Output: [0 1 4 9]
}
