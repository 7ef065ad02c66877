// Package doc holds the passage type shared by ingest, the index and the HTTP API.
package doc

// Chunk is one retrievable passage with the metadata needed to cite it and to
// decide who may see it.
type Chunk struct {
	ID      string   `json:"id"`
	Source  string   `json:"source"`
	Title   string   `json:"title"`
	Heading string   `json:"heading,omitempty"`
	Page    int      `json:"page,omitempty"`
	Text    string   `json:"text"`
	Groups  []string `json:"groups,omitempty"` // empty means visible to everyone
}

// Visible reports whether a user in userGroups may read c: a chunk without
// groups is public, otherwise the two sets must intersect.
func (c *Chunk) Visible(userGroups []string) bool {
	if len(c.Groups) == 0 {
		return true
	}
	for _, g := range c.Groups {
		for _, u := range userGroups {
			if g == u {
				return true
			}
		}
	}
	return false
}
