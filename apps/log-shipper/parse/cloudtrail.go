package parse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/unsilo/unsilo/contracts/lake/schema"
)

// CloudTrail parses CloudTrail log files: {"Records":[event, ...]} as
// delivered to S3. A file of one event object per line (CloudWatch Logs /
// EventBridge exports) is accepted too.
type CloudTrail struct {
	src    *schema.Source
	maxDoc int64
}

// SetMaxDocument implements DocumentLimiter.
func (p *CloudTrail) SetMaxDocument(n int64) { p.maxDoc = n }

// Source implements Parser.
func (p *CloudTrail) Source() *schema.Source { return p.src }

var cloudTrailKnown = map[string]bool{
	"eventTime": true, "eventVersion": true, "eventSource": true, "eventName": true, "eventType": true,
	"eventCategory": true, "awsRegion": true, "sourceIPAddress": true, "userAgent": true, "userIdentity": true,
	"errorCode": true, "errorMessage": true, "readOnly": true, "managementEvent": true, "requestID": true,
	"eventID": true, "recipientAccountId": true, "requestParameters": true, "responseElements": true,
	"additionalEventData": true, "resources": true, "insightDetails": false,
}

// Parse implements Parser.
func (p *CloudTrail) Parse(ctx context.Context, r io.Reader, file string, out Emitter) error {
	data, err := readDocument(r, p.maxDoc)
	if data == nil && err != nil {
		return err
	}
	if rerr := p.parseDocument(ctx, data, file, out); rerr != nil {
		return rerr
	}
	return err
}

func (p *CloudTrail) parseDocument(ctx context.Context, data []byte, file string, out Emitter) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil
	}
	if !bytes.Contains(data[:min(len(data), 4096)], []byte(`"Records"`)) {
		// Not the S3 file shape: one event per line.
		return runJSONObjects(ctx, bytes.NewReader(data), file, out, func(b []byte, _ int) (schema.Record, error) {
			return p.ParseEvent(b)
		})
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	bad := func(reason string) error {
		off := dec.InputOffset()
		return out.Bad(Bad{File: file, Line: lineAt(data, off), Reason: reason, Raw: rawOf(data[off:])})
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return bad("cloudtrail: invalid JSON (rest of file not parsed): " + err.Error())
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return bad(fmt.Sprintf("cloudtrail: expected an object, got %v (rest of file not parsed)", tok))
		}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return bad("cloudtrail: invalid JSON (rest of file not parsed): " + err.Error())
			}
			if key, _ := kt.(string); key != "Records" {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return bad("cloudtrail: invalid JSON (rest of file not parsed): " + err.Error())
				}
				continue
			}
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return bad("cloudtrail: Records is not an array (rest of file not parsed)")
			}
			for n := 0; dec.More(); n++ {
				if n%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return bad("cloudtrail: invalid JSON (rest of file not parsed): " + err.Error())
				}
				line := lineAt(data, dec.InputOffset()-int64(len(raw)))
				rec, perr := p.ParseEvent(raw)
				if perr != nil {
					if err := out.Bad(Bad{File: file, Line: line, Reason: perr.Error(), Raw: rawOf(raw)}); err != nil {
						return err
					}
					continue
				}
				if err := out.Record(rec); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ]
				return bad("cloudtrail: invalid JSON (rest of file not parsed): " + err.Error())
			}
		}
		if _, err := dec.Token(); err != nil { // }
			return bad("cloudtrail: invalid JSON (rest of file not parsed): " + err.Error())
		}
	}
}

// ParseEvent parses one CloudTrail event object.
func (p *CloudTrail) ParseEvent(b []byte) (schema.Record, error) {
	o, err := decodeObject(b)
	if err != nil {
		return schema.Record{}, fmt.Errorf("cloudtrail: %w", err)
	}
	s := p.src
	rec := s.NewRecord()
	set := func(col string, val schema.Value) { rec.Values[s.MustIndex(col)] = val }
	t, err := parseTimeValue(o["eventTime"])
	if err != nil {
		return schema.Record{}, fmt.Errorf("cloudtrail: eventTime: %v", err)
	}
	rec.Time = t
	set("time", schema.TimeOf(t))
	for col, key := range map[string]string{
		"event_version": "eventVersion", "event_source": "eventSource", "event_name": "eventName",
		"event_type": "eventType", "event_category": "eventCategory", "aws_region": "awsRegion",
		"source_ip_address": "sourceIPAddress", "user_agent": "userAgent", "error_code": "errorCode",
		"error_message": "errorMessage", "request_id": "requestID", "event_id": "eventID",
		"recipient_account_id": "recipientAccountId",
	} {
		set(col, o.str(key))
	}
	if id := o.sub("insightDetails"); id != nil { // Insights events name the API in insightDetails
		for col, key := range map[string]string{"event_name": "eventName", "event_source": "eventSource"} {
			if rec.Values[s.MustIndex(col)].Null() {
				set(col, id.str(key))
			}
		}
	}
	if rec.Values[s.MustIndex("event_name")].Null() {
		return schema.Record{}, fmt.Errorf("cloudtrail: eventName missing")
	}
	for col, key := range map[string]string{"read_only": "readOnly", "management_event": "managementEvent"} {
		v, err := o.boolean(key)
		if err != nil {
			return schema.Record{}, fmt.Errorf("cloudtrail: %w", err)
		}
		set(col, v)
	}
	for col, key := range map[string]string{
		"user_identity": "userIdentity", "request_parameters": "requestParameters",
		"response_elements": "responseElements", "additional_event_data": "additionalEventData", "resources": "resources",
	} {
		set(col, o.json(key))
	}
	if ui := o.sub("userIdentity"); ui != nil {
		set("user_type", ui.str("type"))
		set("user_arn", ui.str("arn"))
		set("user_account_id", ui.str("accountId"))
		set("access_key_id", ui.str("accessKeyId"))
		name := ui.str("userName")
		if name.Null() {
			if issuer := ui.sub("sessionContext").sub("sessionIssuer"); issuer != nil {
				name = issuer.str("userName")
			}
		}
		if name.Null() {
			name = ui.str("principalId")
		}
		set("user_name", name)
	}
	if re := o.sub("responseElements"); re != nil {
		set("console_login", re.str("ConsoleLogin"))
	}
	if ad := o.sub("additionalEventData"); ad != nil {
		set("mfa_used", ad.str("MFAUsed"))
	}
	set("extra_fields", o.extra(cloudTrailKnown))
	return rec, nil
}
