package main

import (
	"bytes"
	"os"
	"testing"
)

// The committed TypeScript types are what the AsyncAPI document generates:
// a change to the protocol document that is not regenerated fails here.
func TestGeneratedProtocolTypesMatchTheAsyncAPIDocument(t *testing.T) {
	doc, err := os.ReadFile("../../../" + asyncAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../../" + outputPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from what %s generates: run go run ./clients/js/protocolgen", outputPath, asyncAPIPath)
	}
}

// A document that drops a message fails the comparison: the test above is
// not vacuous.
func TestGeneratedTypesChangeWhenTheDocumentChanges(t *testing.T) {
	doc, err := os.ReadFile("../../../" + asyncAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	base, err := Generate(doc)
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(doc, []byte("enum: [degraded, recovered]"), []byte("enum: [degraded, recovered, resting]"), 1)
	if bytes.Equal(edited, doc) {
		t.Fatal("the notice codes are not where the test expects them")
	}
	changed, err := Generate(edited)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(base, changed) || !bytes.Contains(changed, []byte(`"resting"`)) {
		t.Fatal("a new notice code did not reach the generated types")
	}
}
