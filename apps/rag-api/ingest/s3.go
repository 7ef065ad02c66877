package ingest

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3API is the part of the S3 client the ingester uses.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// S3 ingests every supported object under s3://bucket/prefix. Objects whose
// ETag (and whose sidecar "<key>.acl" ETag) did not change are not even
// downloaded. ACL groups come from the sidecar object or the document itself.
func (in *Ingester) S3(ctx context.Context, client S3API, bucket, prefix string) (Report, error) {
	start := time.Now()
	rep := Report{Skipped: []Skip{}}
	limit := in.MaxFileBytes
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	type obj struct {
		key, etag string
		size      int64
	}
	var objs []obj
	etags := map[string]string{}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return rep, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			k := aws.ToString(o.Key)
			etags[k] = aws.ToString(o.ETag)
			if in.wanted(k) {
				objs = append(objs, obj{key: k, etag: aws.ToString(o.ETag), size: aws.ToInt64(o.Size)})
			}
		}
	}
	seen := map[string]bool{}
	for i, o := range objs {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		src := "s3://" + bucket + "/" + o.key
		seen[src] = true
		rep.Files++
		if reason := in.s3Object(ctx, client, bucket, o.key, o.etag, etags[o.key+".acl"], o.size, limit, &rep); reason != "" {
			rep.Skipped = append(rep.Skipped, Skip{Source: src, Reason: reason})
		}
		if (i+1)%100 == 0 {
			in.logger().Info("ingest progress", "done", i+1, "total", len(objs), "chunks", rep.Chunks, "skipped", len(rep.Skipped))
		}
	}
	sources, err := in.Store.Sources()
	if err != nil {
		return rep, err
	}
	for _, s := range sources {
		if strings.HasPrefix(s, "s3://"+bucket+"/"+prefix) && !seen[s] {
			if err := in.Store.DeleteFile(s); err != nil {
				return rep, err
			}
			rep.Removed++
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

func (in *Ingester) s3Object(ctx context.Context, client S3API, bucket, key, etag, aclEtag string, size, limit int64, rep *Report) string {
	src := "s3://" + bucket + "/" + key
	if size > limit {
		return fmt.Sprintf("object is %d bytes, limit is %d", size, limit)
	}
	hash := "etag:" + etag + "/" + aclEtag
	rec, found, err := in.Store.File(src)
	if err != nil {
		return fmt.Sprintf("index read: %v", err)
	}
	if found && rec.Hash == hash {
		rep.Unchanged++
		return ""
	}
	b, err := getBounded(ctx, client, bucket, key, limit)
	if err != nil {
		return err.Error()
	}
	var sidecar []string
	if aclEtag != "" {
		ab, err := getBounded(ctx, client, bucket, key+".acl", 1<<20)
		if err != nil {
			return "acl sidecar: " + err.Error()
		}
		sidecar = parseACL(ab)
	}
	parse, _ := parserFor(key)
	parsed, err := parseWithTimeout(parse, b, parseTimeout)
	if err != nil {
		return err.Error()
	}
	groups := sidecar
	if len(groups) == 0 {
		groups = normGroups(parsed.Groups)
	}
	title := parsed.Title
	if title == "" {
		title = strings.TrimSuffix(path.Base(key), path.Ext(key))
	}
	chunks := Chunk(src, title, groups, parsed)
	if len(chunks) == 0 {
		return "no text found"
	}
	if err := in.Store.PutFile(src, hash, chunks); err != nil {
		return fmt.Sprintf("index write: %v", err)
	}
	if found {
		rep.Updated++
	} else {
		rep.Added++
	}
	rep.Chunks += len(chunks)
	rep.Pages += pages(parsed)
	return ""
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
