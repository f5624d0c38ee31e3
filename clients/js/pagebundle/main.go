// Command pagebundle writes web/static/client/, the shopper page's copy of
// @foyer/client (clients/js): foyer.js, the library as one classic script
// that sets the global Foyer, and pow-worker.js, its proof of work's Web
// Worker, which the page's Content-Security-Policy (worker-src 'self') lets
// run because it is served from Foyer's own origin.
//
// Both are built from clients/js/src by esbuild, through its Go API, so a
// clean clone builds and serves the page with Go alone (go build, go
// install, the Dockerfile), and bundle_test.go fails when the committed
// files differ from what this would write, as protocolgen does for the
// protocol's types.
//
//	go run ./clients/js/pagebundle            (from the repository's root)
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

const (
	sourceDir = "clients/js/src"
	outputDir = "web/static/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pagebundle:", err)
		os.Exit(1)
	}
}

func run() error {
	files, err := Bundle(sourceDir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(outputDir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", outputDir, err)
	}
	for name, body := range files {
		path := filepath.Join(outputDir, name)
		if err := os.WriteFile(path, body, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	return nil
}
