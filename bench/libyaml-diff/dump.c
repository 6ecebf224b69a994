/* bench/libyaml-diff.sh: prints every event libyaml gives for each file named (type, marks, anchor,
 * tag, implicitness, style, value) and the error where it stops, so two builds of libyaml can be
 * compared byte for byte. */
#include <string.h>
#include <yaml.h>
#include <stdio.h>
#include <stdlib.h>
static void s(const unsigned char *p, size_t n) { if (!p) { printf("-"); return; } printf("%zu:", n); fwrite(p, 1, n, stdout); }
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    FILE *f = fopen(argv[i], "rb"); if (!f) continue;
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n + 1); n = fread(buf, 1, n, f); fclose(f);
    yaml_parser_t p; yaml_event_t e; yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, buf, n);
    printf("FILE %s\n", argv[i]);
    while (1) {
      if (!yaml_parser_parse(&p, &e)) {
        printf("ERROR %d %s @%zu,%zu,%zu ctx %s @%zu,%zu off %zu val %d\n", p.error, p.problem ? p.problem : "", p.problem_mark.index, p.problem_mark.line, p.problem_mark.column,
               p.context ? p.context : "", p.context_mark.line, p.context_mark.column, p.problem_offset, p.problem_value);
        break;
      }
      printf("E %d [%zu,%zu,%zu]-[%zu,%zu,%zu] ", e.type, e.start_mark.index, e.start_mark.line, e.start_mark.column, e.end_mark.index, e.end_mark.line, e.end_mark.column);
      if (e.type == YAML_SCALAR_EVENT) { s(e.data.scalar.anchor, e.data.scalar.anchor ? strlen((char*)e.data.scalar.anchor) : 0); printf(" "); s(e.data.scalar.tag, e.data.scalar.tag ? strlen((char*)e.data.scalar.tag) : 0); printf(" %d %d %d ", e.data.scalar.plain_implicit, e.data.scalar.quoted_implicit, e.data.scalar.style); s(e.data.scalar.value, e.data.scalar.length); }
      if (e.type == YAML_ALIAS_EVENT) s(e.data.alias.anchor, strlen((char*)e.data.alias.anchor));
      if (e.type == YAML_MAPPING_START_EVENT || e.type == YAML_SEQUENCE_START_EVENT) printf("%d", e.data.mapping_start.style);
      printf("\n");
      int t = e.type; yaml_event_delete(&e); if (t == YAML_STREAM_END_EVENT) break;
    }
    yaml_parser_delete(&p); free(buf);
  }
}
