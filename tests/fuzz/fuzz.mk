# fuzz.mk - GNU make rules for the libFuzzer targets, run by `make fuzz`
# (Makefile.am passes TARGETS, LIB_SRCS, LIBS, EXTRA_CPPFLAGS, srcdir).
# The library's sources are compiled again with clang, with coverage
# instrumentation and ASan+UBSan, into tests/fuzz/obj/; each target
# tests/fuzz/fuzz_NAME is tests/fuzz/fuzz_NAME.c linked against them.
# Kept out of Makefile.am because automake (-Wall -Werror) refuses the
# pattern rules this needs.

CC = clang
srcdir = .
SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -std=gnu11 -Wall -Wextra -Wshadow -Wno-unused-parameter -g -O1 -fno-omit-frame-pointer -pthread $(SAN)
FUZZ_CPPFLAGS = -I. -I$(srcdir)/src -I$(srcdir)/src/handlers \
	-I$(srcdir)/tests/fuzz -DSYSCONFDIR='"/etc"' $(EXTRA_CPPFLAGS)
OBJDIR = tests/fuzz/obj
LIB_OBJS = $(patsubst %.c,$(OBJDIR)/%.o,$(filter %.c,$(LIB_SRCS)))
BINS = $(TARGETS:%=tests/fuzz/fuzz_%)

all: $(BINS)

$(OBJDIR)/%.o: $(srcdir)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	    -MMD -MP -c -o $@ $<

$(OBJDIR)/liblf.a: $(LIB_OBJS)
	rm -f $@ && ar cr $@ $(LIB_OBJS)

tests/fuzz/fuzz_%: $(srcdir)/tests/fuzz/fuzz_%.c $(OBJDIR)/liblf.a
	@mkdir -p tests/fuzz
	$(CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP \
	    -MF $(OBJDIR)/fuzz_$*.d -o $@ $< $(OBJDIR)/liblf.a $(LIBS)

clean:
	rm -rf $(OBJDIR) $(BINS)

.PHONY: all clean
-include $(LIB_OBJS:.o=.d) $(TARGETS:%=$(OBJDIR)/fuzz_%.d)
