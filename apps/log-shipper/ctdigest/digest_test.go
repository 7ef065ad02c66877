package ctdigest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// memSource is a bucket in memory.
type memSource map[string]*Object

func (m memSource) List(_ context.Context, bucket, prefix string) ([]string, error) {
	var out []string
	for k := range m {
		if b, key, _ := strings.Cut(k, "/"); b == bucket && strings.HasPrefix(key, prefix) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (m memSource) Get(_ context.Context, bucket, key string) (*Object, error) {
	o, ok := m[bucket+"/"+key]
	if !ok {
		return nil, ErrNotFound
	}
	return o, nil
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// trail delivers hours of CloudTrail logs and digests the way CloudTrail
// does: each digest lists its hour's log files and signs over the previous
// digest's signature.
type trail struct {
	t       *testing.T
	key     *rsa.PrivateKey
	bucket  memSource
	prevKey string
	prevSig *string
	prevSHA string
}

const bucketName = "raw"

func newTrail(t *testing.T) *trail {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &trail{t: t, key: k, bucket: memSource{}}
}

func (tr *trail) keys() Keys {
	der := x509.MarshalPKCS1PublicKey(&tr.key.PublicKey)
	js, _ := json.Marshal(map[string]any{"PublicKeyList": []map[string]any{{"Value": base64.StdEncoding.EncodeToString(der), "Fingerprint": "fp1",
		"ValidityStartTime": "2026-01-01T00:00:00Z", "ValidityEndTime": "2027-01-01T00:00:00Z"}}})
	k, err := ParseKeys(js)
	if err != nil {
		tr.t.Fatal(err)
	}
	return k
}

// hour delivers two log files and the digest of hour h; restart begins a
// new chain (as after logging was stopped).
func (tr *trail) hour(h int, restart bool) string {
	end := time.Date(2026, 11, 28, h, 0, 0, 0, time.UTC)
	var logs []LogFile
	for i := range 2 {
		body := []byte(fmt.Sprintf(`{"Records":[{"eventTime":"%s","eventName":"E%d"}]}`, end.Add(-30*time.Minute).Format(time.RFC3339), i))
		key := fmt.Sprintf("cloudtrail/AWSLogs/111122223333/CloudTrail/ap-northeast-2/2026/11/28/111122223333_CloudTrail_ap-northeast-2_%02d%d.json.gz", h, i)
		tr.bucket[bucketName+"/"+key] = &Object{Body: gz(body)}
		logs = append(logs, LogFile{S3Bucket: bucketName, S3Object: key, HashValue: hexSHA(body), HashAlgorithm: "SHA-256"})
	}
	key := fmt.Sprintf("cloudtrail/AWSLogs/111122223333/CloudTrail-Digest/ap-northeast-2/2026/11/28/111122223333_CloudTrail-Digest_ap-northeast-2_lake_ap-northeast-2_20261128T%02d0000Z.json.gz", h)
	d := Digest{AWSAccountID: "111122223333", DigestStartTime: end.Add(-time.Hour).Format(time.RFC3339), DigestEndTime: end.Format(time.RFC3339),
		DigestS3Bucket: bucketName, DigestS3Object: key, PublicKeyFingerprint: "fp1", SignatureAlgorithm: "SHA256withRSA", LogFiles: logs}
	if tr.prevSig != nil && !restart {
		b, o, alg := bucketName, tr.prevKey, "SHA-256"
		d.PreviousDigestBucket, d.PreviousDigestObject, d.PreviousDigestHashAlg = &b, &o, &alg
		sha := tr.prevSHA
		d.PreviousDigestHash, d.PreviousSignature = &sha, tr.prevSig
	}
	raw, _ := json.Marshal(d)
	sum := sha256.Sum256(d.StringToSign(raw))
	sig, err := rsa.SignPKCS1v15(rand.Reader, tr.key, crypto.SHA256, sum[:])
	if err != nil {
		tr.t.Fatal(err)
	}
	s := hex.EncodeToString(sig)
	tr.bucket[bucketName+"/"+key] = &Object{Body: gz(raw), Signature: s}
	tr.prevKey, tr.prevSig, tr.prevSHA = key, &s, hexSHA(raw)
	return key
}

func kinds(r *Report) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.Kind)
	}
	sort.Strings(out)
	return out
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		tamper func(tr *trail, digests []string)
		want   []string
		reason string
	}{
		{"intact", func(*trail, []string) {}, nil, "three signed hours, six log files"},
		{"log edited", func(tr *trail, _ []string) {
			k := bucketName + "/cloudtrail/AWSLogs/111122223333/CloudTrail/ap-northeast-2/2026/11/28/111122223333_CloudTrail_ap-northeast-2_111.json.gz"
			tr.bucket[k] = &Object{Body: gz([]byte(`{"Records":[]}`))}
		}, []string{TamperedLog}, "an event removed from a log file"},
		{"log deleted", func(tr *trail, _ []string) {
			delete(tr.bucket, bucketName+"/cloudtrail/AWSLogs/111122223333/CloudTrail/ap-northeast-2/2026/11/28/111122223333_CloudTrail_ap-northeast-2_100.json.gz")
		}, []string{MissingLog}, "a log file deleted"},
		{"digest edited", func(tr *trail, d []string) {
			o := tr.bucket[bucketName+"/"+d[1]]
			raw, _ := inflate(o.Body)
			o.Body = gz(bytes.Replace(raw, []byte(`"logFiles":[`), []byte(`"logFiles":[ `), 1))
		}, []string{ChainBroken, BadSignature}, "a digest rewritten (even whitespace): its signature fails, the next digest's hash of it too"},
		{"digest deleted", func(tr *trail, d []string) { delete(tr.bucket, bucketName+"/"+d[1]) }, []string{MissingDigest},
			"the middle hour's digest removed: the next one names it"},
		{"digest moved", func(tr *trail, d []string) {
			tr.bucket[bucketName+"/cloudtrail/elsewhere/"+strings.ReplaceAll(d[2], "/", "_")] = tr.bucket[bucketName+"/"+d[2]]
		}, []string{Moved}, "a copy of a digest elsewhere under the prefix is not where CloudTrail delivered it"},
	}
	for _, tc := range cases {
		tr := newTrail(t)
		var digests []string
		for h := 10; h <= 12; h++ {
			digests = append(digests, tr.hour(h, false))
		}
		tc.tamper(tr, digests)
		rep, err := Validate(context.Background(), tr.bucket, tr.keys(), bucketName, "cloudtrail/")
		if err != nil {
			t.Fatal(err)
		}
		if got := kinds(rep); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: problems %+v, want %v (%s)", tc.name, rep.Problems, tc.want, tc.reason)
		}
		if tc.name == "intact" && (rep.ValidDigests != 3 || rep.ValidLogFiles != 6) {
			t.Errorf("intact: %+v", rep)
		}
	}
}

func TestValidateReportsGapAndUnknownKey(t *testing.T) {
	tr := newTrail(t)
	tr.hour(10, false)
	tr.hour(13, true) // logging stopped for two hours: a new chain
	rep, err := Validate(context.Background(), tr.bucket, tr.keys(), bucketName, "cloudtrail/")
	if err != nil || strings.Join(kinds(rep), ",") != Gap {
		t.Fatalf("%v %+v", err, rep.Problems)
	}
	other := newTrail(t)
	rep, _ = Validate(context.Background(), tr.bucket, other.keys(), bucketName, "cloudtrail/")
	if len(rep.Problems) < 2 || rep.Problems[0].Kind != BadSignature {
		t.Fatalf("signed by another key: %+v", rep.Problems)
	}
	// A backfill digest is validated on its own, not reported as a gap.
	tr2 := newTrail(t)
	tr2.hour(10, false)
	tr2.hour(11, false)
	k := tr2.hour(12, true)
	tr2.bucket[bucketName+"/"+strings.Replace(k, "Z.json.gz", "Z_backfill.json.gz", 1)] = tr2.bucket[bucketName+"/"+k]
	delete(tr2.bucket, bucketName+"/"+k)
	rep, _ = Validate(context.Background(), tr2.bucket, tr2.keys(), bucketName, "cloudtrail/")
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != Moved || rep.Digests != 3 {
		t.Fatalf("backfill: %+v (the renamed copy is reported as moved, never as a gap)", rep.Problems)
	}
	if _, err := ParseKeys([]byte(`{"PublicKeyList":[]}`)); err == nil {
		t.Fatal("empty key list accepted")
	}
}

// The S3 source reads the signature from x-amz-meta-signature.
func TestS3Source(t *testing.T) {
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer ts.Close()
	c := s3.New(s3.Options{Region: "ap-northeast-2", BaseEndpoint: aws.String(ts.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucketName)}); err != nil {
		t.Fatal(err)
	}
	tr := newTrail(t)
	tr.hour(10, false)
	tr.hour(11, false)
	for k, o := range tr.bucket {
		_, key, _ := strings.Cut(k, "/")
		in := &s3.PutObjectInput{Bucket: aws.String(bucketName), Key: aws.String(key), Body: bytes.NewReader(o.Body)}
		if o.Signature != "" {
			in.Metadata = map[string]string{"signature": o.Signature}
		}
		if _, err := c.PutObject(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Validate(ctx, S3Source{Client: c}, tr.keys(), bucketName, "cloudtrail/")
	if err != nil || len(rep.Problems) != 0 || rep.ValidDigests != 2 || rep.ValidLogFiles != 4 {
		t.Fatalf("%v %+v", err, rep)
	}
}

func FuzzParseDigest(f *testing.F) {
	f.Add([]byte(`{"digestStartTime":"a","digestEndTime":"b","digestS3Bucket":"c","digestS3Object":"d","digestPublicKeyFingerprint":"e","logFiles":[]}`))
	f.Add([]byte(`{"digestSignatureAlgorithm":"MD5withRSA"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDigest(b)
		if err != nil {
			return
		}
		if d.DigestEndTime == "" || d.DigestS3Object == "" || d.PublicKeyFingerprint == "" {
			t.Fatalf("accepted without required fields: %+v", d)
		}
		if s := d.StringToSign(b); !bytes.HasPrefix(s, []byte(d.DigestEndTime+"\n")) {
			t.Fatalf("string to sign %q", s)
		}
	})
}
