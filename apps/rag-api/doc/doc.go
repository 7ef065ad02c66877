// Package doc holds the passage type shared by ingest, the index and the HTTP API.
package doc

import (
	"strconv"
	"strings"
)

// Chunk is one retrievable passage with the metadata needed to cite it and to
// decide who may see it.
type Chunk struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Title   string `json:"title"`
	Heading string `json:"heading,omitempty"`
	Page    int    `json:"page,omitempty"`
	Text    string `json:"text"`
	// Public marks a passage anyone may read. It is explicit so that a
	// passage whose groups were lost or never set is readable by nobody
	// rather than by everybody.
	Public bool     `json:"public,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

// Visible reports whether a user in userGroups may read c.
func (c *Chunk) Visible(userGroups []string) bool {
	return Readable(c.Public, c.Groups, userGroups)
}

// Readable is the one access rule: public, or at least one group in common.
// No groups and not public means nobody.
func Readable(public bool, groups, userGroups []string) bool {
	if public {
		return true
	}
	for _, g := range groups {
		for _, u := range userGroups {
			if g == u {
				return true
			}
		}
	}
	return false
}

// ID is the id of chunk ordinal of source: "file:///a.md#3".
func ID(source string, ordinal int) string { return source + "#" + strconv.Itoa(ordinal) }

// SplitID is ID's inverse ("file:///a#b.md#3" -> "file:///a#b.md", 3).
func SplitID(id string) (source string, ordinal int, ok bool) {
	i := strings.LastIndexByte(id, '#')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n < 0 || strconv.Itoa(n) != id[i+1:] {
		return "", 0, false
	}
	return id[:i], n, true
}
