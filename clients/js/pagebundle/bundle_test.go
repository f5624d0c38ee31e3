package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

const root = "../../../"

// The committed bundles are what the library's source builds: a change to
// clients/js/src that is not bundled again fails here.
func TestTheCommittedPageBundlesAreWhatTheLibraryBuilds(t *testing.T) {
	want, err := Bundle(root + sourceDir)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range want {
		got, err := os.ReadFile(filepath.Join(root+outputDir, name))
		if err != nil {
			t.Fatalf("%v: run go run ./clients/js/pagebundle", err)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("%s/%s differs from what %s builds: run go run ./clients/js/pagebundle", outputDir, name, sourceDir)
		}
	}
	listed, err := os.ReadDir(root + outputDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range listed {
		if _, ok := want[f.Name()]; !ok {
			t.Errorf("%s/%s is no bundle of pagebundle's: the page's folder holds only generated files", outputDir, f.Name())
		}
	}
}

// A change to the library's source changes the bundle: the test above is
// not vacuous.
func TestTheBundleChangesWhenTheLibraryDoes(t *testing.T) {
	src := t.TempDir()
	entries, err := os.ReadDir(root + sourceDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(root+sourceDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "backoff.ts" {
			edited := bytes.Replace(body, []byte("minMs: 500"), []byte("minMs: 750"), 1)
			if bytes.Equal(edited, body) {
				t.Fatal("the backoff's default is not where the test expects it")
			}
			body = edited
		}
		if err := os.WriteFile(filepath.Join(src, e.Name()), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base, err := Bundle(root + sourceDir)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Bundle(src)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(base["foyer.js"], changed["foyer.js"]) || !bytes.Contains(changed["foyer.js"], []byte("750")) {
		t.Fatal("a new backoff default did not reach the bundle")
	}
}
