package gnetsuite

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Shard is a part of the suite run by one process.
type Shard struct {
	Name string
	Run  string // -test.run pattern
	// Host: the tests need the machine's interfaces (multicast routes, an
	// Ethernet device), so they run in the host's network namespace, one
	// binary after the other.
	Host bool
}

// Shards cover every test of SuiteFiles once (CheckCoverage), split so that
// the slowest shard takes about a minute and a half.
var Shards = []Shard{
	// Longest first, so that the concurrent run ends with short shards.
	{Name: "server-multi-addrs", Run: `^TestServer$/^poll-multi-addrs-.*$`},
	{Name: "sim-proxy", Run: `^Test(SimServer|StreamProxyServer|UDPProxyServer)$`},
	{Name: "client-chunk-reuseport", Run: `^TestClient$/^poll-(ET-chunk|reuseport-.*)$`},
	{Name: "server-LT-ET", Run: `^TestServer$/^poll-(LT|ET)$`},
	{Name: "server-chunk-reuseport-LT", Run: `^TestServer$/^poll-(ET-chunk|reuseport-LT)$`},
	{Name: "client-LT-ET", Run: `^TestClient$/^poll-(LT|ET)$`},
	{Name: "server-reuseport-ET", Run: `^TestServer$/^poll-reuseport-ET$`},
	// TestClientReadOnEOF leaves 127.0.0.1:9999 in TIME_WAIT, where gnet v2
	// (no SO_REUSEADDR by default) cannot bind for TestClosedWakeUp at once.
	{Name: "misc", Run: `^Test(DefaultGnetServer|BadAddresses|Tick|WakeConn|Shutdown|CloseActionError|ShutdownActionError|CloseActionOnOpen|ShutdownActionOnOpen|UDPShutdown|CloseConnection|ServerOptionsCheck|StopServer|EngineStop|ClosedWakeUp|MultiInstLoggerRace|DisconnectedAsyncWrite|UDPSendtoServer)$`},
	{Name: "client-misc", Run: `^Test(WakeConnImmediately|ClientReadOnEOF)$`},
	{Name: "host", Run: `^Test(ServeMulticast|MulticastBindIPv4|MulticastBindIPv6|BindToDevice)$`, Host: true},
}

// CheckCoverage reports top-level tests of the binary that no shard runs or
// that two shards run whole, and first-level subtests of a test split over
// shards (by a "Test/subtest" pattern) that no shard or two shards run.
// sources are the suite's files.
func CheckCoverage(bin string, sources [][]byte) error {
	out, err := exec.Command(bin, "-test.list", ".").Output()
	if err != nil {
		return fmt.Errorf("%s -test.list: %v", bin, err)
	}
	for _, name := range strings.Fields(string(out)) {
		if !strings.HasPrefix(name, "Test") {
			continue
		}
		whole, split := 0, map[string]*regexp.Regexp{}
		for _, s := range Shards {
			top, sub, isSplit := strings.Cut(s.Run, "/")
			if !regexp.MustCompile(top).MatchString(name) {
				continue
			}
			if isSplit {
				split[s.Name] = regexp.MustCompile(sub)
			} else {
				whole++
			}
		}
		switch {
		case whole == 1 && len(split) == 0:
		case whole == 0 && len(split) > 0:
			subs, err := firstLevelSubtests(sources, name)
			if err != nil {
				return err
			}
			for _, sub := range subs {
				n := 0
				for _, re := range split {
					if re.MatchString(sub) {
						n++
					}
				}
				if n != 1 {
					return fmt.Errorf("subtest %s/%s is run by %d shards, want 1", name, sub, n)
				}
			}
		default:
			return fmt.Errorf("test %s is run by %d shards whole and %d in parts", name, whole, len(split))
		}
	}
	return nil
}

// firstLevelSubtests returns the names given to t.Run directly in the body
// of the test function name in one of the sources.
func firstLevelSubtests(sources [][]byte, name string) ([]string, error) {
	var subs []string
	for _, src := range sources {
		f, err := parser.ParseFile(token.NewFileSet(), "x_test.go", src, 0)
		if err != nil {
			return nil, err
		}
		subs = append(subs, runNames(f, name)...)
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("no subtests of %s found in the suite's files", name)
	}
	return subs, nil
}

func runNames(f *ast.File, name string) []string {
	var subs []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != name {
			continue
		}
		for _, st := range fn.Body.List {
			es, ok := st.(*ast.ExprStmt)
			if !ok {
				continue
			}
			call, ok := es.X.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				continue
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Run" {
				continue
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					subs = append(subs, s)
				}
			}
		}
	}
	return subs
}

// Result is how one test ended, with its output.
type Result struct {
	Action string   // pass, fail or skip
	Output []string // the first and last outputLines lines
	Lines  int      // lines of output in all
	// Traces counts the places ("file_test.go:N") where testify assertions
	// failed (the first frame of each "Error Trace").
	Traces map[string]int
}

// outputLines bounds the output kept per test: a failing assertion in a
// callback can fail thousands of times.
const outputLines = 100

var traceRE = regexp.MustCompile(`Error Trace:\s+\S*?(\w+_test\.go:\d+)`)

func (r *Result) addOutput(line string) {
	r.Lines++
	if m := traceRE.FindStringSubmatch(line); m != nil {
		if r.Traces == nil {
			r.Traces = map[string]int{}
		}
		r.Traces[m[1]]++
	}
	if len(r.Output) < 2*outputLines {
		r.Output = append(r.Output, line)
		return
	}
	copy(r.Output[outputLines:], r.Output[outputLines+1:]) // keep the head, slide the tail
	r.Output[len(r.Output)-1] = line
}

// Results maps test names (with subtest paths) to results.
type Results map[string]*Result

// Leaves returns the names of the tests that have no subtests, sorted.
func (r Results) Leaves() []string {
	parents := map[string]bool{}
	for name := range r {
		for i := range len(name) {
			if name[i] == '/' {
				parents[name[:i]] = true
			}
		}
	}
	var leaves []string
	for name := range r {
		if !parents[name] {
			leaves = append(leaves, name)
		}
	}
	sort.Strings(leaves)
	return leaves
}

// Count returns how many of the leaves ended with each action.
func (r Results) Count() map[string]int {
	n := map[string]int{}
	for _, name := range r.Leaves() {
		n[r[name].Action]++
	}
	return n
}

// Suite is one test binary to run shard by shard.
type Suite struct {
	Name string // "ours", "ours-io_uring" or "control"
	Bin  string
	Dir  string // scratch: one working directory per shard
}

// maxConcurrent bounds the shard processes running at once: the suite's
// clients echo as fast as they can, and on a small machine too many at once
// slow a 1 MiB echo past the one-second deadlines the suite sets (which
// pollnet enforces), adding failures that are only the machine's.
var maxConcurrent = 8

// RunAll runs every shard of the suites: with isolated set, concurrently,
// each in a new network namespace, then the host shards one after the
// other; without, all one after the other in the host's namespace (where
// another program holding one of the suite's fixed ports disturbs it). logf reports
// progress. It returns each suite's results.
func RunAll(ctx context.Context, suites []Suite, isolated bool, timeout time.Duration, logf func(string, ...any)) (map[string]Results, error) {
	type job struct {
		suite Suite
		shard Shard
	}
	// Concurrently, both suites run each shard at the same time. One after
	// the other, a suite's shards run together, the last suite first (the
	// control, in TestGnetV2Suite): gnet v2 does not set SO_REUSEADDR, so
	// it cannot bind a port the other suite's server left in TIME_WAIT a
	// moment before, while pollnet's gnet/ can.
	var parallel, serial []job
	for _, sh := range Shards {
		for _, s := range suites {
			if isolated && !sh.Host {
				parallel = append(parallel, job{s, sh})
			}
		}
	}
	for i := range suites {
		s := suites[len(suites)-1-i]
		for _, sh := range Shards {
			if !isolated || sh.Host {
				serial = append(serial, job{s, sh})
			}
		}
	}
	results := map[string]Results{}
	for _, s := range suites {
		results[s.Name] = Results{}
	}
	var mu sync.Mutex
	var firstErr error
	runJob := func(j job) {
		start := time.Now()
		r, err := runShard(ctx, j.suite, j.shard, isolated && !j.shard.Host, timeout)
		mu.Lock()
		defer mu.Unlock()
		for k, v := range r {
			results[j.suite.Name][k] = v
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s/%s: %v", j.suite.Name, j.shard.Name, err)
		}
		logf("%-7s %-26s %5.1fs %v", j.suite.Name, j.shard.Name, time.Since(start).Seconds(), r.Count())
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxConcurrent)
	for _, j := range parallel {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			runJob(j)
		}()
	}
	wg.Wait()
	for _, j := range serial {
		runJob(j)
	}
	return results, firstErr
}

// runShard runs one shard of a suite under go tool test2json and collects
// the results.
func runShard(ctx context.Context, s Suite, sh Shard, isolated bool, timeout time.Duration) (Results, error) {
	dir := filepath.Join(s.Dir, sh.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	test2json, err := test2jsonPath()
	if err != nil {
		return nil, err
	}
	args := []string{test2json, "-t", s.Bin, "-test.v=test2json", "-test.count=1",
		"-test.timeout=" + timeout.String(), "-test.run=" + sh.Run}
	ctx, cancel := context.WithTimeout(ctx, timeout+time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if isolated {
		cmd = isolatedCommand(ctx, args)
	} else {
		cmd = exec.CommandContext(ctx, args[0], args[1:]...)
	}
	cmd.Dir = dir
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := Results{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Action, Test, Output string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Test == "" {
			continue
		}
		res := r[ev.Test]
		if res == nil {
			res = &Result{}
			r[ev.Test] = res
		}
		switch ev.Action {
		case "output":
			res.addOutput(ev.Output)
		case "pass", "fail", "skip":
			res.Action = ev.Action
		}
	}
	err = cmd.Wait()
	for name, res := range r {
		if res.Action == "" { // killed by the timeout, or a crash
			res.Action = "fail"
			res.addOutput("(no result: the shard timed out or crashed)\n")
			r[name] = res
		}
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("timed out")
	}
	if _, ok := err.(*exec.ExitError); ok {
		err = nil // failing tests: reported through the results
	}
	return r, err
}

// test2jsonPath builds go tool test2json if needed and returns its path.
func test2jsonPath() (string, error) {
	out, err := exec.Command("go", "tool", "-n", "test2json").Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n test2json: %v", err)
	}
	return strings.TrimSpace(string(out)), nil
}
