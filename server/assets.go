package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"
)

// asset is one static file ready to serve: its bytes, gzipped once, and
// how long caches may keep it.
type asset struct {
	body, gzipped []byte
	contentType   string
	cacheControl  string
}

// Cache lifetimes: assets are named by their content, so they never change
// under their name; pages are small and name the current assets.
const (
	assetCache = "public, max-age=31536000, immutable"
	pageCache  = "public, max-age=60"
)

// assetTable maps URL paths to what is served there. Every file but the
// pages is served under a name made from its content: a file at the top,
// app.js, at /assets/app.<hash>.js; a file in a folder, admin/live.js, at
// /assets/admin.<hash>/live.js, where the hash covers every file of the
// folder. So the ES modules of one folder keep importing each other by
// their relative names ("./api.js"), and a change to any of them moves the
// whole folder to a new name. The pages are rewritten to point at those
// names, and served at their own paths.
type assetTable map[string]*asset

func buildAssets(web fs.FS, gz *gzipper) (assetTable, error) {
	table := assetTable{}
	bodies := map[string][]byte{} // file path -> content, pages aside
	var pages []string
	err := fs.WalkDir(web, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".html") {
			pages = append(pages, p)
			return nil
		}
		body, err := fs.ReadFile(web, p)
		if err != nil {
			return err
		}
		bodies[p] = body
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read static files: %w", err)
	}
	folders := folderHashes(bodies)
	hashed := map[string]string{} // file path -> URL path
	for p, body := range bodies {
		var url string
		if folder, rest, nested := strings.Cut(p, "/"); nested {
			url = "/assets/" + folder + "." + folders[folder] + "/" + rest
		} else {
			sum := sha256.Sum256(body)
			ext := path.Ext(p)
			url = "/assets/" + strings.TrimSuffix(p, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		}
		hashed[p] = url
		table[url] = gz.asset(body, path.Ext(p), assetCache)
	}
	// Longest names first, so "vendor/a.js" is rewritten before "a.js".
	names := make([]string, 0, len(hashed))
	for p := range hashed {
		names = append(names, p)
	}
	sort.Slice(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for _, p := range pages {
		body, err := fs.ReadFile(web, p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		for _, name := range names {
			for _, ref := range []string{`"` + name + `"`, `"./` + name + `"`, `"/` + name + `"`} {
				body = bytes.ReplaceAll(body, []byte(ref), []byte(`"`+hashed[name]+`"`))
			}
		}
		page := gz.asset(body, ".html", pageCache)
		table["/"+p] = page
		if p == "index.html" {
			table["/"] = page
		}
	}
	return table, nil
}

// gzipper makes assets with one gzip writer, reset for each: a writer at
// BestCompression allocates about 800 KB of tables, and a node makes some
// 70 assets as it starts (each a new writer made a node's start allocate
// 50 MB, most of its CPU under the race detector).
type gzipper struct{ zw *gzip.Writer }

func newGzipper() *gzipper {
	// The level is a constant: NewWriterLevel fails only for a bad one.
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestCompression)
	return &gzipper{zw: zw}
}

// asset is body ready to serve, gzipped when that makes it smaller.
func (g *gzipper) asset(body []byte, ext, cache string) *asset {
	var buf bytes.Buffer
	g.zw.Reset(&buf)
	g.zw.Write(body)
	g.zw.Close()
	ct := mime.TypeByExtension(ext)
	if ct == "" {
		ct = "application/octet-stream"
	}
	a := &asset{body: body, contentType: ct, cacheControl: cache}
	if buf.Len() < len(body) {
		a.gzipped = buf.Bytes()
	}
	return a
}

// folderHashes names each top-level folder by the content of all its files
// (their paths and bodies, in path order), as hex.
func folderHashes(bodies map[string][]byte) map[string]string {
	paths := make([]string, 0, len(bodies))
	for p := range bodies {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	sums := map[string]hash.Hash{}
	for _, p := range paths {
		folder, _, nested := strings.Cut(p, "/")
		if !nested {
			continue
		}
		h := sums[folder]
		if h == nil {
			h = sha256.New()
			sums[folder] = h
		}
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(bodies[p]))
		h.Write(bodies[p])
	}
	names := map[string]string{}
	for folder, h := range sums {
		names[folder] = hex.EncodeToString(h.Sum(nil)[:5])
	}
	return names
}
