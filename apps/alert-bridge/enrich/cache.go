package enrich

import (
	"container/list"
	"sync"
	"time"

	ragapi "github.com/unsilo/unsilo/apps/rag-api/api"
)

// cache is a small LRU of search results with an expiry per entry.
type cache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used
	items map[string]*list.Element
}

type cached struct {
	query   string
	hits    []ragapi.SearchResult
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *cache) get(q string, now time.Time) ([]ragapi.SearchResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[q]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cached)
	if !now.Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, q)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.hits, true
}

func (c *cache) put(q string, hits []ragapi.SearchResult, expires time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[q]; ok {
		el.Value = &cached{q, hits, expires}
		c.order.MoveToFront(el)
		return
	}
	c.items[q] = c.order.PushFront(&cached{q, hits, expires})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cached).query)
	}
}

func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
