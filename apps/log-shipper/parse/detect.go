package parse

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// Detect guesses the source of a file from its first bytes (already
// decompressed). It returns "" when unsure.
func Detect(head []byte) string {
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(t) == 0 {
		return ""
	}
	switch {
	case bytes.HasPrefix(t, []byte("#Version:")) || bytes.HasPrefix(t, []byte("#Fields:")):
		return schema.CloudFront
	case t[0] == '{' || t[0] == '[':
		switch {
		case bytes.Contains(t, []byte(`"digestStartTime"`)) && bytes.Contains(t, []byte(`"logFiles"`)):
			return CloudTrailDigest
		case bytes.Contains(t, []byte(`"Records"`)) || bytes.Contains(t, []byte(`"eventVersion"`)):
			return schema.CloudTrail
		case bytes.Contains(t, []byte(`"webaclId"`)) || bytes.Contains(t, []byte(`"terminatingRuleId"`)):
			return schema.WAF
		case bytes.Contains(t, []byte(`"log"`)) || bytes.Contains(t, []byte(`"kubernetes"`)) || bytes.Contains(t, []byte(`"date"`)):
			return schema.Container
		}
		return ""
	}
	line := string(t)
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(line)
	if len(fields) >= 2 && albTypes[fields[0]] {
		if _, err := time.Parse(time.RFC3339Nano, fields[1]); err == nil {
			return schema.ALB
		}
	}
	vpc := &VPCFlow{src: mustSource(schema.VPCFlow)}
	if vpc.isVPCHeader(fields) {
		return schema.VPCFlow
	}
	if len(fields) == len(vpcDefaultFields) && (fields[12] == "ACCEPT" || fields[12] == "REJECT" || fields[13] == "NODATA" || fields[13] == "SKIPDATA") {
		return schema.VPCFlow
	}
	return ""
}

// CloudTrailDigest is what Detect answers for a CloudTrail digest file:
// not log data but the signed hash chain over the trail's log files.
const CloudTrailDigest = "cloudtrail-digest"

// CheckContent rejects an input whose first bytes clearly belong to another
// source than the one it is ingested as (--type, or the intake's fixed
// container type): WAF JSON under --type container would otherwise parse as
// container records. Content Detect cannot place is let through to the parser,
// which quarantines what it cannot read line by line.
func CheckContent(source string, head []byte) error {
	got := Detect(head)
	if got == "" || got == source {
		return nil
	}
	return fmt.Errorf("content is %s, not %s (detected from the first bytes; use --type %s or --type auto)", got, source, got)
}

func mustSource(name string) *schema.Source {
	s, err := schema.Lookup(name)
	if err != nil {
		panic(err)
	}
	return s
}

var nameTime = regexp.MustCompile(`(\d{8}T\d{4})Z`)

// TimeFromName extracts the timestamp AWS puts in delivered object names
// (…_20180620T2355Z_…), or the zero time.
func TimeFromName(name string) time.Time {
	m := nameTime.FindStringSubmatch(name)
	if m == nil {
		return time.Time{}
	}
	t, err := time.Parse("20060102T1504", m[1])
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
