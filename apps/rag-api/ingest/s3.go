package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/unsilo/unsilo/apps/rag-api/store"
)

// S3API is the part of the S3 client the ingester uses.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

type s3Object struct {
	key, etag string
	size      int64
	modified  time.Time
}

// S3 ingests every object under s3://bucket/prefix. An object whose ETag and
// rules did not change is not downloaded. Rules work as on disk: ".acl"
// objects in every "folder" from the bucket root down (also above the
// ingested prefix) and a "<key>.acl" sidecar, intersected with the
// document's own metadata.
func (in *Ingester) S3(ctx context.Context, client S3API, bucket, prefix string) (Report, error) {
	start := time.Now()
	target := "s3://" + bucket + "/" + prefix
	rep := Report{Target: target, Skipped: []Skip{}}
	var objs []s3Object
	listed := map[string]string{} // key -> ETag, every object under prefix
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return rep, fmt.Errorf("list %s: %w", target, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			listed[k] = aws.ToString(o.ETag)
			if strings.HasSuffix(k, "/") || ignored(path.Base(k)) || !in.wanted(k) {
				continue
			}
			objs = append(objs, s3Object{key: k, etag: aws.ToString(o.ETag), size: aws.ToInt64(o.Size), modified: aws.ToTime(o.LastModified)})
		}
	}
	existing, err := in.Index.Sources(target)
	if err != nil {
		return rep, err
	}
	if len(objs) == 0 && len(existing) > 0 && !in.AllowEmpty {
		return rep, fmt.Errorf("%s lists no objects to ingest but the index holds %d from it: not removing them; pass --allow-empty to remove them", target, len(existing))
	}
	acl := &s3ACL{ctx: ctx, client: client, bucket: bucket, prefix: prefix, listed: listed, cache: map[string]*s3Rule{}}
	b := &batch{in: in}
	seen := map[string]bool{}
	for i, o := range objs {
		if err := ctx.Err(); err != nil {
			_ = b.flush()
			return rep, err
		}
		src := "s3://" + bucket + "/" + o.key
		seen[src] = true
		rep.Files++
		if err := in.s3File(ctx, client, bucket, o, acl, b, &rep); err != nil {
			_ = b.flush()
			return rep, err
		}
		if (i+1)%100 == 0 {
			in.logger().Info("ingest progress", "target", target, "done", i+1, "total", len(objs), "chunks", rep.Chunks, "skipped", len(rep.Skipped))
		}
	}
	for _, s := range existing {
		if !seen[s] {
			if err := b.add(store.Write{Source: s}); err != nil {
				return rep, err
			}
			rep.Removed++
		}
	}
	err = b.flush()
	rep.Duration = time.Since(start)
	return rep, err
}

func (in *Ingester) s3File(ctx context.Context, client S3API, bucket string, o s3Object, acl *s3ACL, b *batch, rep *Report) error {
	src := "s3://" + bucket + "/" + o.key
	parse, refusal := in.formatOf(o.key)
	if parse == nil {
		rep.skip(src, refusal, false)
		return nil
	}
	fs := fileState{src: src, name: strings.TrimSuffix(path.Base(o.key), path.Ext(o.key)), size: o.size, mtime: o.modified.UnixNano()}
	var err error
	if fs.rec, fs.found, err = in.Index.File(src); err != nil {
		return fmt.Errorf("index read: %w", err)
	}
	fs.layers, fs.aclKey, fs.aclErr = acl.forKey(o.key)
	if o.size > in.maxFileBytes() {
		return in.refuse(b, rep, fs, "etag:"+o.etag, fmt.Sprintf("object is %d bytes, limit is %d", o.size, in.maxFileBytes()))
	}
	hash := "etag:" + o.etag
	r := fs.rec
	if fs.found && r.Parser == in.parserKey() && r.Hash == hash && r.ACLKey == fs.aclKey {
		in.unchanged(rep, fs)
		return nil
	}
	return in.content(ctx, b, rep, fs, hash, parse, func() ([]byte, error) {
		return getBounded(ctx, client, bucket, o.key, in.maxFileBytes())
	})
}

// s3Rule is one ".acl" object: absent, or its groups (or why it is unusable).
type s3Rule struct {
	exists bool
	etag   string
	groups []string
	err    error
}

type s3ACL struct {
	ctx            context.Context
	client         S3API
	bucket, prefix string
	listed         map[string]string
	cache          map[string]*s3Rule
}

func (a *s3ACL) rule(key string) *s3Rule {
	if r, ok := a.cache[key]; ok {
		return r
	}
	r := &s3Rule{}
	etag, inListing := a.listed[key]
	if strings.HasPrefix(key, a.prefix) && !inListing {
		a.cache[key] = r // under the listed prefix: absent
		return r
	}
	out, err := a.client.GetObject(a.ctx, &s3.GetObjectInput{Bucket: aws.String(a.bucket), Key: aws.String(key)})
	var nsk *types.NoSuchKey
	switch {
	case errors.As(err, &nsk):
	case err != nil:
		r.exists, r.err = true, fmt.Errorf("cannot read s3://%s/%s: %w", a.bucket, key, err)
	default:
		body, rerr := io.ReadAll(io.LimitReader(out.Body, 1<<20))
		out.Body.Close()
		r.exists, r.etag = true, aws.ToString(out.ETag)
		if etag != "" {
			r.etag = etag
		}
		if rerr != nil {
			r.err = fmt.Errorf("cannot read s3://%s/%s: %w", a.bucket, key, rerr)
		} else {
			r.groups, r.err = parseACLFile("s3://"+a.bucket+"/"+key, body)
		}
	}
	a.cache[key] = r
	return r
}

// forKey returns the rules of an object: ".acl" from the bucket root down,
// then the sidecar.
func (a *s3ACL) forKey(key string) ([]aclLayer, string, error) {
	var keys []string
	dir := ""
	keys = append(keys, ".acl")
	parts := strings.Split(key, "/")
	for _, p := range parts[:len(parts)-1] {
		dir += p + "/"
		keys = append(keys, dir+".acl")
	}
	keys = append(keys, key+".acl")
	var layers []aclLayer
	var dg []byte
	for _, k := range keys {
		r := a.rule(k)
		if !r.exists {
			continue
		}
		dg = digest(dg, k, []byte(r.etag))
		if r.err != nil {
			return nil, fmt.Sprintf("%x", digest(dg, "error", []byte(r.err.Error()))), r.err
		}
		layers = append(layers, aclLayer{origin: "s3://" + a.bucket + "/" + k, groups: r.groups})
	}
	return layers, fmt.Sprintf("%x", digest(dg, "", nil)), nil
}

func getBounded(ctx context.Context, client S3API, bucket, key string, limit int64) ([]byte, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get object: %w", err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read object: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("object exceeds %d bytes", limit)
	}
	return b, nil
}
