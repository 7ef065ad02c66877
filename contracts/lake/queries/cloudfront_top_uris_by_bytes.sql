-- CloudFront: URIs serving the most bytes
SELECT cs_uri_stem, CAST(sum(sc_bytes) AS BIGINT) AS bytes, count(*) AS requests
FROM cloudfront
GROUP BY cs_uri_stem
ORDER BY bytes DESC, cs_uri_stem
LIMIT 5;
