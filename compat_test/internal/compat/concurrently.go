package compat

import "sync"

// Concurrently runs f(0), …, f(n-1) at once, waits for all of them and
// returns the errors they returned, in no particular order.
func Concurrently(n int, f func(i int) error) []error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return all
}
