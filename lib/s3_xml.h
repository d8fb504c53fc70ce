/*
 * s3_xml.h: the few XML replies of an S3 server that the S3 backend reads
 * (lib/backend_s3.c), read strictly and within fixed bounds.
 *
 * Every byte of a reply comes from the server and is distrusted.  The
 * reader is a small tokenizer, not a general XML parser:
 *  - one root element; element names of [A-Za-z0-9_.:-], at most
 *    CF_S3_XML_NAME_MAX bytes and CF_S3_XML_DEPTH_MAX levels deep; every
 *    end tag matches its start tag;
 *  - attributes are skipped (quoted values may not hold '<');
 *  - an XML declaration or processing instruction (<?...?>) and comments
 *    (<!--...-->) are skipped; a DOCTYPE, CDATA section or any other "<!"
 *    is refused (no entity definitions, no entity expansion);
 *  - text is only allowed in leaf elements (whitespace between elements is
 *    ignored), at most CF_S3_XML_TEXT_MAX bytes after decoding; the five
 *    predefined entities (&amp; &lt; &gt; &quot; &apos;) and character
 *    references (&#N; &#xN;) for TAB, LF, CR and printable ASCII are
 *    decoded, any other reference is refused; control bytes are refused;
 *    bytes >= 0x80 are kept as they are (and then fail the checks of the
 *    field that holds them, if it allows only ASCII).
 * Anything else is CF_ERR_CORRUPT with a message naming what was wrong.
 */
#ifndef COFFRE_S3_XML_H
#define COFFRE_S3_XML_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "error.h"

#define CF_S3_XML_NAME_MAX 64       /* an element name */
#define CF_S3_XML_DEPTH_MAX 8       /* nesting of elements */
#define CF_S3_XML_TEXT_MAX 1024     /* the text of one leaf, decoded */
#define CF_S3_LIST_KEYS_MAX 10000   /* keys in one ListObjectsV2 page */
#define CF_S3_TOKEN_MAX 1024        /* a continuation token */
#define CF_S3_UPLOAD_ID_MAX 1024    /* a multipart upload id */

/* One page of a ListObjectsV2 reply, as cf_s3_list_parse leaves it. */
struct cf_s3_list {
	struct cf_buf names;    /* object names, each followed by a NUL */
	size_t count;           /* how many names */
	int truncated;          /* IsTruncated: more pages follow */
	char token[CF_S3_TOKEN_MAX + 1]; /* NextContinuationToken, or "" */
};

/* cf_s3_list_init(l): an empty page. */
void cf_s3_list_init(struct cf_s3_list *l);

/* cf_s3_list_free(l): release the names; safe twice. */
void cf_s3_list_free(struct cf_s3_list *l);

/*
 * cf_s3_list_parse(xml, n, prefix, dir, l): read the ListObjectsV2 reply
 * ${xml} (${n} bytes) into ${l} (emptied first).  The root must be
 * ListBucketResult; IsTruncated must be there once, "true" or "false";
 * when true, NextContinuationToken must be there once, 1 to
 * CF_S3_TOKEN_MAX bytes of printable ASCII without space.  Every
 * Contents/Key must be ${prefix} (the repository's key prefix, "" or
 * ending in '/') followed by a valid object name (cf_backend_name_ok)
 * that starts with "${dir}/"; the name (without ${prefix}) is added to
 * ${l}->names.  Other elements are ignored.  CF_ERR_CORRUPT for any
 * deviation (${l} then holds nothing), CF_ERR_NOMEM.
 */
cf_status cf_s3_list_parse(const void *xml, size_t n, const char *prefix,
    const char *dir, struct cf_s3_list *l);

/* The <Error> reply of an S3 server, for messages. */
struct cf_s3_error {
	char code[64];          /* e.g. "NoSuchKey"; "" if unknown */
	char message[256];      /* printable (cf_http_text), may be "" */
};

/*
 * cf_s3_error_parse(xml, n, e): fill ${e} from an <Error> reply.  Never
 * fails: a reply that is not such XML (or is truncated) leaves ${e}
 * empty.  The code is kept only if it is 1 to 63 bytes of [A-Za-z0-9.];
 * the message is made printable.
 */
void cf_s3_error_parse(const void *xml, size_t n, struct cf_s3_error *e);

/*
 * cf_s3_upload_id_parse(xml, n, id): the UploadId of an
 * InitiateMultipartUploadResult reply, into ${id} (CF_S3_UPLOAD_ID_MAX + 1
 * bytes): 1 to CF_S3_UPLOAD_ID_MAX bytes of printable ASCII without space,
 * present once.  CF_ERR_CORRUPT otherwise.
 */
cf_status cf_s3_upload_id_parse(const void *xml, size_t n, char *id);

/*
 * cf_s3_complete_parse(xml, n, e): the reply to CompleteMultipartUpload,
 * which may be "200 OK" and still report an error in its body.  CF_OK if
 * the root is CompleteMultipartUploadResult; if it is Error, CF_ERR_IO
 * with ${e} filled (no message set); CF_ERR_CORRUPT for anything else.
 */
cf_status cf_s3_complete_parse(const void *xml, size_t n,
    struct cf_s3_error *e);

#endif
