package doc

import "testing"

func TestSplitID(t *testing.T) {
	for id, want := range map[string]string{"file:///a#b.md#3": "file:///a#b.md", "s3://b/k#0": "s3://b/k"} {
		if got, _, ok := SplitID(id); !ok || got != want {
			t.Errorf("SplitID(%q) = %q", id, got)
		}
	}
	for _, bad := range []string{"nohash", "x#-1", "x#y", "#3", "x#03", "x#+3"} {
		if _, _, ok := SplitID(bad); ok {
			t.Errorf("SplitID(%q) accepted", bad)
		}
	}
	if src, n, ok := SplitID(ID("file:///x.md", 12)); !ok || src != "file:///x.md" || n != 12 {
		t.Error("ID and SplitID disagree")
	}
}

func TestReadable(t *testing.T) {
	cases := []struct {
		public       bool
		groups, user []string
		want         bool
		reason       string
	}{
		{true, nil, nil, true, "public"},
		{false, nil, []string{"hr"}, false, "no groups and not public is nobody's"},
		{false, []string{"hr"}, nil, false, "anonymous caller"},
		{false, []string{"hr", "fin"}, []string{"fin"}, true, "one group in common"},
		{false, []string{"hr"}, []string{"HR"}, false, "groups are case-sensitive"},
	}
	for _, c := range cases {
		if got := Readable(c.public, c.groups, c.user); got != c.want {
			t.Errorf("%s: got %v", c.reason, got)
		}
	}
}
