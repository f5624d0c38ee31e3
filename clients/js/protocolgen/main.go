// Command protocolgen writes clients/js/src/protocol.gen.ts, the TypeScript
// types of the shopper protocol, from docs/asyncapi.yaml. The JavaScript
// client's types come from the same document the server is tested against
// (server/asyncapi_test.go), so the two cannot drift: generate_test.go fails
// when the committed file differs from what this would write.
//
//	go run ./clients/js/protocolgen            (from the repository's root)
package main

import (
	"fmt"
	"os"
)

const (
	asyncAPIPath = "docs/asyncapi.yaml"
	outputPath   = "clients/js/src/protocol.gen.ts"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "protocolgen:", err)
		os.Exit(1)
	}
}

func run() error {
	doc, err := os.ReadFile(asyncAPIPath)
	if err != nil {
		return fmt.Errorf("read the protocol: %w", err)
	}
	ts, err := Generate(doc)
	if err != nil {
		return fmt.Errorf("generate from %s: %w", asyncAPIPath, err)
	}
	if err := os.WriteFile(outputPath, ts, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", outputPath, err)
	}
	return nil
}
