package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/sync/singleflight"

	"github.com/foyerhq/foyer/internal/branding"
)

// A sale's branding (docs/branding.md): the operator sets it through the
// admin API, and the shopper page reads it through a public route of its
// own, which every node keeps a few seconds, so a sale's opening (thousands
// of pages loaded in a second) asks Postgres once per node, not once per
// shopper. It is not folded into GET /v1/sales/:sale, which tells the live
// state from Redis and is never cached.

// Brandings keeps sales' brandings (internal/branding.Store).
type Brandings interface {
	Set(ctx context.Context, saleID string, b branding.Branding, actor string) error
	Get(ctx context.Context, saleID string) (branding.Stored, error)
}

// brandingTTL is how long a node keeps a sale's branding for the public
// route, and how long browsers and caches may: a change shows on every
// page within it.
const brandingTTL = 5 * time.Second

// maxCachedBrandings bounds the node's cache: requests for made-up sale ids
// must not grow it without end. Past it, the cache starts over.
const maxCachedBrandings = 4096

// publicBranding is what anyone may read of a sale's branding: what the
// page shows, and the sale's name for the images' alt text; never who set
// it or when.
type publicBranding struct {
	branding.Branding
	SaleName string `json:"sale_name"`
}

// brandingCache is a node's copy of recent public brandings.
type brandingCache struct {
	mu      sync.Mutex // guards entries; never held over a read of Postgres
	entries map[string]cachedBranding
	reads   singleflight.Group // one read of Postgres per sale at a time
}

type cachedBranding struct {
	answer publicBranding
	err    error // branding.ErrNoSale is kept too: an unknown id is asked once per TTL
	until  time.Time
}

func (bc *brandingCache) get(ctx context.Context, store Brandings, saleID string) (publicBranding, error) {
	now := time.Now()
	bc.mu.Lock()
	e, ok := bc.entries[saleID]
	bc.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.answer, e.err
	}
	v, err, _ := bc.reads.Do(saleID, func() (any, error) {
		// Detached from the first asker's request: the others wait on this
		// read too, and one that hangs up must not fail them all.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		st, err := store.Get(rctx, saleID)
		if err != nil && !errors.Is(err, branding.ErrNoSale) {
			return publicBranding{}, err // Postgres out of reach: not kept, asked again next time
		}
		answer := publicBranding{Branding: st.Branding, SaleName: st.SaleName}
		bc.mu.Lock()
		if bc.entries == nil || len(bc.entries) >= maxCachedBrandings {
			bc.entries = make(map[string]cachedBranding)
		}
		bc.entries[saleID] = cachedBranding{answer: answer, err: err, until: time.Now().Add(brandingTTL)}
		bc.mu.Unlock()
		return answer, err
	})
	return v.(publicBranding), err
}

// forget drops the node's copy of a sale's branding once it changed here;
// other nodes show the change within brandingTTL.
func (bc *brandingCache) forget(saleID string) {
	bc.mu.Lock()
	delete(bc.entries, saleID)
	bc.mu.Unlock()
	bc.reads.Forget(saleID)
}

// adminBranding is the admin API's view: the branding, when it changed, and
// the hosts images may come from, so the dashboard can say so beside the
// form.
type adminBranding struct {
	branding.Stored
	ImageHosts []string `json:"image_hosts"`
}

// putBranding replaces a sale's branding (PUT /v1/admin/sales/:sale/branding):
// every field, those left out cleared. A refused one changes nothing.
func (s *Server) putBranding(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	var req branding.Branding
	if err := c.ShouldBindJSON(&req); err != nil {
		s.fail(c, fmt.Errorf("%w: %v", errBadRequest, err))
		return
	}
	b, err := branding.Check(req, s.cfg.ImageHosts)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.deps.Brandings.Set(c.Request.Context(), id, b, actorOf(c)); err != nil {
		s.fail(c, err)
		return
	}
	s.brandings.forget(id)
	s.answerAdminBranding(c, id)
}

// getBranding is a sale's branding for the dashboard (GET
// /v1/admin/sales/:sale/branding).
func (s *Server) getBranding(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	s.answerAdminBranding(c, id)
}

func (s *Server) answerAdminBranding(c *gin.Context, saleID string) {
	st, err := s.deps.Brandings.Get(c.Request.Context(), saleID)
	if err != nil {
		s.fail(c, err)
		return
	}
	hosts := s.cfg.ImageHosts
	if hosts == nil {
		hosts = []string{}
	}
	c.JSON(http.StatusOK, adminBranding{Stored: st, ImageHosts: hosts})
}

// publicSaleBranding is what the shopper page shows of a sale's branding
// (GET /v1/sales/:sale/branding): cached by the node and by browsers for
// brandingTTL.
func (s *Server) publicSaleBranding(c *gin.Context) {
	id, ok := s.saleParam(c)
	if !ok {
		return
	}
	answer, err := s.brandings.get(c.Request.Context(), s.deps.Brandings, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", int(brandingTTL.Seconds())))
	c.JSON(http.StatusOK, answer)
}
