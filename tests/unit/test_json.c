/* SPDX-License-Identifier: MIT */
/* test_json.c — the streaming JSON writer: commas, layout, escaping, numbers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/json.h"
#include "lib/number.h"
#include "test.h"

/* What a writer wrote: open one with json_open(), read it with json_text(). */
static char *text;
static size_t text_len;
static FILE *stream;

static struct json_writer json_open(unsigned flags)
{
	struct json_writer w;

	free(text);
	text = NULL;
	stream = open_memstream(&text, &text_len);
	json_init(&w, stream, flags);
	return w;
}

static const char *json_text(void)
{
	fclose(stream);
	stream = NULL;
	return text;
}

static const char *string_of(const char *str, unsigned flags)
{
	struct json_writer w = json_open(flags);

	json_string(&w, str);
	return json_text();
}

static void test_commas(void)
{
	struct json_writer w = json_open(0);

	json_begin_object(&w);
	json_key_u64(&w, "pid", 4242);
	json_key_string(&w, "comm", "python3");
	json_key(&w, "members");
	json_begin_array(&w);
	json_u64(&w, 1);
	json_u64(&w, 2);
	json_begin_array(&w);
	json_end_array(&w);
	json_begin_object(&w);
	json_end_object(&w);
	json_end_array(&w);
	json_key(&w, "ok");
	json_bool(&w, true);
	json_key(&w, "no");
	json_bool(&w, false);
	json_key(&w, "none");
	json_null(&w);
	json_end_object(&w);
	CHECK_STR(json_text(),
		  "{\"pid\":4242,\"comm\":\"python3\",\"members\":[1,2,[],{}],\"ok\":true,"
		  "\"no\":false,\"none\":null}");

	/* the top level takes no commas: one value, or a stream of them */
	w = json_open(0);
	json_u64(&w, 1);
	json_space(&w, "\n");
	json_u64(&w, 2);
	CHECK_STR(json_text(), "1\n2");
}

static void test_nesting_keeps_commas_per_level(void)
{
	struct json_writer w = json_open(0);

	json_begin_array(&w);
	for (int i = 0; i < 3; i++) {
		json_begin_object(&w);
		json_key(&w, "a");
		json_begin_array(&w);
		json_begin_array(&w);
		json_u64(&w, i);
		json_end_array(&w);
		json_end_array(&w);
		json_key_u64(&w, "b", i);
		json_end_object(&w);
	}
	json_end_array(&w);
	CHECK_STR(json_text(),
		  "[{\"a\":[[0]],\"b\":0},{\"a\":[[1]],\"b\":1},{\"a\":[[2]],\"b\":2}]");
}

static void test_breaks(void)
{
	struct json_writer w = json_open(0);

	/* after the comma before a value or key, or before an end */
	json_begin_object(&w);
	json_key_u64(&w, "a", 1);
	json_break(&w, "\n");
	json_key(&w, "list");
	json_begin_array(&w);
	json_break(&w, "\n");
	json_u64(&w, 1);
	json_break(&w, "\n");
	json_u64(&w, 2);
	json_break(&w, "\n");
	json_end_array(&w);
	json_end_object(&w);
	json_space(&w, "\n");
	CHECK_STR(json_text(), "{\"a\":1,\n\"list\":[\n1,\n2\n]}\n");

	/* json_space() is written at once, even between a value and its comma */
	w = json_open(0);
	json_begin_array(&w);
	json_space(&w, "\n");
	json_u64(&w, 1);
	json_space(&w, " ");
	json_u64(&w, 2);
	json_end_array(&w);
	CHECK_STR(json_text(), "[\n1 ,2]");
}

static void test_spaced(void)
{
	struct json_writer w = json_open(JSON_SPACED);

	json_begin_object(&w);
	json_key_string(&w, "format", "pyflare-dump");
	json_key_u64(&w, "version", 1);
	json_break(&w, "\n ");
	json_key(&w, "processes");
	json_begin_array(&w);
	json_break(&w, "\n    ");
	json_begin_object(&w);
	json_key(&w, "pid");
	json_i64(&w, 7);
	json_end_object(&w);
	json_break(&w, "\n    ");
	json_begin_object(&w);
	json_end_object(&w);
	json_break(&w, "\n ");
	json_end_array(&w);
	json_end_object(&w);
	/* a break replaces the space after a comma, never the one after a colon */
	CHECK_STR(json_text(), "{\"format\": \"pyflare-dump\", \"version\": 1,\n \"processes\": [\n"
			       "    {\"pid\": 7},\n    {}\n ]}");
}

static void test_numbers(void)
{
	struct json_writer w = json_open(0);
	char buf[NUMBER_DECIMAL_LEN];

	json_begin_array(&w);
	json_u64(&w, 0);
	json_u64(&w, UINT64_MAX);
	json_i64(&w, -1);
	json_i64(&w, INT64_MIN);
	json_i64(&w, INT64_MAX);
	json_decimal(&w, 0, 9);
	json_decimal(&w, 2000000000, 9);
	json_decimal(&w, 1001000, 9);
	json_decimal(&w, 123456789, 9);
	json_decimal(&w, 1500, 3);
	json_decimal(&w, 7, 0);
	json_raw(&w, "1.500000", 8);
	json_end_array(&w);
	CHECK_STR(json_text(), "[0,18446744073709551615,-1,-9223372036854775808,"
			       "9223372036854775807,0,2,0.001001,0.123456789,1.5,7,1.500000]");
	CHECK_INT(number_decimal(buf, UINT64_MAX, 9), 21);
	CHECK_STR(buf, "18446744073.709551615");
	CHECK_INT(number_decimal(buf, 10, 9), 10);
	CHECK_STR(buf, "0.00000001");
}

static void test_strings(void)
{
	CHECK_STR(string_of("plain text", 0), "\"plain text\"");
	CHECK_STR(string_of(NULL, 0), "\"\"");
	CHECK_STR(string_of("q\"b\\s/", 0), "\"q\\\"b\\\\s/\"");
	CHECK_STR(string_of("a\nb\tc\rd\x01\x1f\x7f", 0),
		  "\"a\\nb\\tc\\u000dd\\u0001\\u001f\x7f\"");
	/* line ends to older JavaScript */
	CHECK_STR(string_of("x\xe2\x80\xa8y\xe2\x80\xa9z", 0), "\"x\\u2028y\\u2029z\"");
	/* well-formed UTF-8 stays; each ill-formed byte becomes U+FFFD */
	CHECK_STR(string_of("caf\xc3\xa9 \xf0\x9f\x94\xa5", 0), "\"caf\xc3\xa9 \xf0\x9f\x94\xa5\"");
	CHECK_STR(string_of("caf\xc3(\xff", 0), "\"caf\\ufffd(\\ufffd\"");
	CHECK_STR(string_of("\xe0\x80\xaf", 0), "\"\\ufffd\\ufffd\\ufffd\""); /* overlong */
	CHECK_STR(string_of("\xed\xa0\x80", 0), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	/* markup stays as is outside HTML */
	CHECK_STR(string_of("<b>&amp;</b>", 0), "\"<b>&amp;</b>\"");
}

static void test_script_strings(void)
{
	/* nothing can end the <script> element or open a comment in it */
	CHECK_STR(string_of("</script><!--", JSON_SCRIPT), "\"\\u003c/script\\u003e\\u003c!--\"");
	CHECK_STR(string_of("a&b", JSON_SCRIPT), "\"a\\u0026b\"");
	/* every control character as \u, DEL too */
	CHECK_STR(string_of("a\nb\tc\x7f", JSON_SCRIPT), "\"a\\u000ab\\u0009c\\u007f\"");
	CHECK_STR(string_of("q\"b\\s", JSON_SCRIPT), "\"q\\\"b\\\\s\"");
	CHECK_STR(string_of("\xe2\x80\xa8\xff", JSON_SCRIPT), "\"\\u2028\\ufffd\"");

	/* keys are strings too */
	{
		struct json_writer w = json_open(JSON_SCRIPT);

		json_begin_object(&w);
		json_key_string(&w, "<k>", "v");
		json_end_object(&w);
		CHECK_STR(json_text(), "{\"\\u003ck\\u003e\":\"v\"}");
	}
}

static void test_put_string(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	json_put_string(f, "x\n", 0);
	json_put_string(f, "x\n", JSON_SCRIPT);
	fclose(f);
	CHECK_STR(buf, "\"x\\n\"\"x\\u000a\"");
	free(buf);
}

int main(void)
{
	RUN(test_commas);
	RUN(test_nesting_keeps_commas_per_level);
	RUN(test_breaks);
	RUN(test_spaced);
	RUN(test_numbers);
	RUN(test_strings);
	RUN(test_script_strings);
	RUN(test_put_string);
	free(text);
	return test_summary();
}
