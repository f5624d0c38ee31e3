package bench

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// cpuProfile builds a CPU profile of the given stacks (leaf first), each
// with its count of samples.
func cpuProfile(stacks map[string]int64) *profile.Profile {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 10_000_000,
		DurationNanos: 5e9,
	}
	funcs := map[string]*profile.Function{}
	locs := map[string]*profile.Location{}
	loc := func(name string) *profile.Location {
		if l, ok := locs[name]; ok {
			return l
		}
		f := &profile.Function{ID: uint64(len(funcs) + 1), Name: name}
		funcs[name] = f
		p.Function = append(p.Function, f)
		l := &profile.Location{ID: uint64(len(locs) + 1), Line: []profile.Line{{Function: f}}}
		locs[name] = l
		p.Location = append(p.Location, l)
		return l
	}
	for stack, n := range stacks {
		s := &profile.Sample{Value: []int64{n, n * 10_000_000}}
		for name := range strings.SplitSeq(stack, ";") {
			s.Location = append(s.Location, loc(name))
		}
		p.Sample = append(p.Sample, s)
	}
	return p
}

func TestThePushesShareCountsSamplesUnderThePushLoopAndTheWriters(t *testing.T) {
	p := cpuProfile(map[string]int64{
		// The push loop encoding a position: 30 samples.
		"encoding/json.Marshal;github.com/foyerhq/foyer/internal/fanout.(*Room).pushPosition;" + pushLoopFunc: 30,
		// A writer writing: 20 samples.
		"syscall.write;github.com/coder/websocket.(*Conn).Write;github.com/foyerhq/foyer/internal/fanout.(*Conn).flush;" + writersFunc: 20,
		// The checkout and the runtime: 50 samples.
		"crypto/ed25519.Sign;github.com/foyerhq/foyer/server.(*Server).checkout": 40,
		"runtime.gcBgMarkWorker": 10,
	})
	got, err := pushShareOf(p)
	if err != nil {
		t.Fatal(err)
	}
	want := PushShare{Seconds: 5, Samples: 100, PushLoop: 0.3, Pushes: 0.3, Writers: 0.2, Either: 0.5}
	if got != want {
		t.Errorf("pushShareOf = %+v, want %+v", got, want)
	}
	// The writers' samples labelled as writing the tick's pushes are the
	// pushes'; the rest (admissions, orders) are not.
	for _, s := range p.Sample {
		if len(s.Location) > 1 {
			s.Label = map[string][]string{writeLabel: {"push"}}
		}
	}
	var writing []*profile.Location
	for _, s := range p.Sample {
		if s.Location[len(s.Location)-1].Line[0].Function.Name == writersFunc {
			writing = s.Location
		}
	}
	p.Sample = append(p.Sample, &profile.Sample{Value: []int64{10, 100_000_000}, Label: map[string][]string{writeLabel: {"news"}},
		Location: writing})
	got, _ = pushShareOf(p)
	if got.Samples != 110 || got.PushWrites*110 < 19.9 || got.PushWrites*110 > 20.1 || got.Pushes*110 < 49.9 || got.Pushes*110 > 50.1 {
		t.Errorf("with labels: %+v, want 20 pushes' writes and 50 pushes of 110", got)
	}
	// A sample under both (a push loop that wrote itself) counts once in
	// either.
	both := cpuProfile(map[string]int64{writersFunc + ";" + pushLoopFunc: 1, "main.main": 1})
	if got, _ := pushShareOf(both); got.Either != 0.5 || got.PushLoop != 0.5 || got.Writers != 0.5 {
		t.Errorf("a sample under both: %+v, want 0.5 each and 0.5 either", got)
	}
}

func TestAProfileWithoutSampleCountsIsRefused(t *testing.T) {
	p := cpuProfile(map[string]int64{pushLoopFunc: 1})
	p.SampleType = []*profile.ValueType{{Type: "alloc_space", Unit: "bytes"}}
	if _, err := pushShareOf(p); err == nil {
		t.Error("a heap profile was read as a CPU profile")
	}
}

// The push path is named by the functions' names in a profile: a rename in
// internal/fanout would make the share silently zero.
func TestThePushPathNamesFunctionsThatExist(t *testing.T) {
	dir := filepath.Join("..", "fanout")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]bool{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) != 1 {
				continue
			}
			if star, ok := fn.Recv.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok {
					methods["github.com/foyerhq/foyer/internal/fanout.(*"+id.Name+")."+fn.Name.Name] = true
				}
			}
		}
	}
	for _, name := range []string{pushLoopFunc, writersFunc} {
		if !methods[name] {
			t.Errorf("internal/fanout has no %s", name)
		}
	}
	writers, err := os.ReadFile(filepath.Join(dir, "writers.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(writers), `WriteLabel = "`+writeLabel+`"`) {
		t.Errorf("internal/fanout's writers label their samples otherwise than %q", writeLabel)
	}
}
