package ctdigest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Object is a fetched S3 object: its bytes and its signature metadata.
type Object struct {
	Body      []byte
	Signature string // x-amz-meta-signature
}

// ErrNotFound is what a Source returns for an absent object.
var ErrNotFound = errors.New("not found")

// Source reads the trail's bucket.
type Source interface {
	List(ctx context.Context, bucket, prefix string) ([]string, error)
	Get(ctx context.Context, bucket, key string) (*Object, error)
}

// Problem kinds.
const (
	BadSignature  = "digest-signature-invalid"
	Moved         = "digest-moved"
	BadDigest     = "digest-unreadable"
	MissingDigest = "digest-missing"
	ChainBroken   = "digest-chain-broken"
	Gap           = "gap"
	MissingLog    = "log-file-missing"
	TamperedLog   = "log-file-tampered"
)

// Problem is one integrity finding.
type Problem struct {
	Kind   string `json:"kind"`
	Object string `json:"object"`
	Detail string `json:"detail"`
}

// Report is the outcome of a validation.
type Report struct {
	Digests       int       `json:"digests"`
	ValidDigests  int       `json:"valid_digests"`
	LogFiles      int       `json:"log_files"`
	ValidLogFiles int       `json:"valid_log_files"`
	Problems      []Problem `json:"problems"`
}

type seen struct {
	sha, signature string
}

// Validate checks every digest under bucket/prefix, the log files they
// list and the chain between them. Digests of different trails or regions
// under one prefix are chained separately (by the name before the
// timestamp). An error is returned only when the bucket cannot be read.
func Validate(ctx context.Context, src Source, keys Keys, bucket, prefix string) (*Report, error) {
	all, err := src.List(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	chains := map[string][]string{}
	for _, k := range all {
		if strings.Contains(path.Base(k), "_CloudTrail-Digest_") && strings.HasSuffix(k, ".json.gz") {
			chains[chainOf(k)] = append(chains[chainOf(k)], k)
		}
	}
	rep := &Report{Problems: []Problem{}}
	names := make([]string, 0, len(chains))
	for n := range chains {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		digests := chains[n]
		// Oldest first: the date path and the timestamp sort together.
		sort.Slice(digests, func(i, j int) bool { return path.Base(digests[i]) < path.Base(digests[j]) })
		if err := validateChain(ctx, src, keys, bucket, digests, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// chainOf is a digest name without its timestamp:
// <account>_CloudTrail-Digest_<region>_<trail>_<region>. A backfill digest
// (…_<timestamp>_backfill) is outside the hourly chain: it gets a group of
// its own, so it is validated but never taken for a gap.
func chainOf(key string) string {
	b := strings.TrimSuffix(path.Base(key), ".json.gz")
	if i := strings.LastIndex(b, "_"); i > 0 {
		return b[:i]
	}
	return b
}

func validateChain(ctx context.Context, src Source, keys Keys, bucket string, digests []string, rep *Report) error {
	got := map[string]seen{}
	first := "s3://" + bucket + "/" + digests[0]
	for i, key := range digests {
		uri := "s3://" + bucket + "/" + key
		rep.Digests++
		obj, err := src.Get(ctx, bucket, key)
		if err != nil {
			return fmt.Errorf("read %s: %w", uri, err)
		}
		raw, err := inflate(obj.Body)
		if err != nil {
			rep.Problems = append(rep.Problems, Problem{BadDigest, uri, "not gzip: " + err.Error()})
			continue
		}
		d, err := ParseDigest(raw)
		if err != nil {
			rep.Problems = append(rep.Problems, Problem{BadDigest, uri, err.Error()})
			continue
		}
		sum := sha256.Sum256(raw)
		got[uri] = seen{sha: hex.EncodeToString(sum[:]), signature: strings.TrimSpace(obj.Signature)}
		ok := true
		if d.DigestS3Bucket != bucket || d.DigestS3Object != key {
			ok = false
			rep.Problems = append(rep.Problems, Problem{Moved, uri, fmt.Sprintf("says it was delivered to s3://%s/%s", d.DigestS3Bucket, d.DigestS3Object)})
		} else if err := d.Verify(raw, obj.Signature, keys); err != nil {
			ok = false
			rep.Problems = append(rep.Problems, Problem{BadSignature, uri, err.Error()})
		}
		if ok {
			rep.ValidDigests++
		}
		// The chain: the previous digest must be the one this one names.
		switch {
		case d.PreviousDigestObject == nil || d.PreviousDigestBucket == nil:
			if i > 0 {
				rep.Problems = append(rep.Problems, Problem{Gap, uri,
					fmt.Sprintf("starts a new chain after %s: no digest (logging or validation was off) until %s", digests[i-1], d.DigestStartTime)})
			}
		default:
			prev := "s3://" + *d.PreviousDigestBucket + "/" + *d.PreviousDigestObject
			p, listed := got[prev]
			switch {
			case listed:
				if d.PreviousSignature == nil || p.signature != *d.PreviousSignature {
					rep.Problems = append(rep.Problems, Problem{ChainBroken, uri, prev + "'s signature is not the one this digest signed"})
				} else if d.PreviousDigestHash != nil && p.sha != *d.PreviousDigestHash {
					rep.Problems = append(rep.Problems, Problem{ChainBroken, uri, prev + " was altered after this digest hashed it"})
				}
			case i > 0 || prev >= first:
				// Inside the range we listed, but not there.
				rep.Problems = append(rep.Problems, Problem{MissingDigest, prev, "named by " + uri + " as its predecessor"})
			}
		}
		for _, lf := range d.LogFiles {
			checkLog(ctx, src, lf, rep)
		}
	}
	return nil
}

func checkLog(ctx context.Context, src Source, lf LogFile, rep *Report) {
	uri := "s3://" + lf.S3Bucket + "/" + lf.S3Object
	rep.LogFiles++
	obj, err := src.Get(ctx, lf.S3Bucket, lf.S3Object)
	if errors.Is(err, ErrNotFound) {
		rep.Problems = append(rep.Problems, Problem{MissingLog, uri, "listed in a digest, not in the bucket"})
		return
	}
	if err != nil {
		rep.Problems = append(rep.Problems, Problem{MissingLog, uri, err.Error()})
		return
	}
	raw, err := inflate(obj.Body)
	if err != nil {
		rep.Problems = append(rep.Problems, Problem{TamperedLog, uri, "not gzip: " + err.Error()})
		return
	}
	sum := sha256.Sum256(raw)
	if hex.EncodeToString(sum[:]) != lf.HashValue {
		rep.Problems = append(rep.Problems, Problem{TamperedLog, uri, "SHA-256 of the content differs from the digest's hashValue"})
		return
	}
	rep.ValidLogFiles++
}

// S3API is the part of the S3 client a validation uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// S3Source reads the trail's bucket with the S3 API.
type S3Source struct{ Client S3API }

// List implements Source.
func (s S3Source) List(ctx context.Context, bucket, prefix string) ([]string, error) {
	var out []string
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, aws.ToString(o.Key))
		}
	}
	return out, nil
}

// Get implements Source; the SDK returns user metadata without the
// x-amz-meta- prefix.
func (s S3Source) Get(ctx context.Context, bucket, key string) (*Object, error) {
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	return &Object{Body: b, Signature: out.Metadata["signature"]}, nil
}
