// The shared words: each name read back to its kind, and ids that index their tables.
#include <gtest/gtest.h>

#include <string_view>
#include <unordered_set>
#include <vector>

#include "kinds/json_text.h"
#include "kinds/kinds.h"

namespace mage::kinds {
namespace {

TEST(Kinds, RoundTripThroughTheirNames) {
  for (ProcKind k : kProcKinds) EXPECT_EQ(parse_proc_kind(to_string(k)), k);
  for (MemKind k : kMemKinds) EXPECT_EQ(parse_mem_kind(to_string(k)), k);
  EXPECT_EQ(to_string(ProcKind::OMP), "OMP");
  EXPECT_EQ(to_string(MemKind::SOCKMEM), "SOCKMEM");
  EXPECT_FALSE(parse_proc_kind("gpu").has_value());
  EXPECT_FALSE(parse_proc_kind("TPU").has_value());
  // The mapping language's own words are not kinds of a machine.
  EXPECT_FALSE(parse_proc_kind("PROC").has_value());
  EXPECT_FALSE(parse_mem_kind("VIRTUAL").has_value());
}

TEST(Kinds, IndexIsThePositionInTheList) {
  for (size_t i = 0; i < kProcKinds.size(); ++i) EXPECT_EQ(index(kProcKinds[i]), i);
  for (size_t i = 0; i < kMemKinds.size(); ++i) EXPECT_EQ(index(kMemKinds[i]), i);
}

TEST(LayoutWords, RoundTripThroughTheirNames) {
  for (FieldLayout f : {FieldLayout::SOA, FieldLayout::AOS}) EXPECT_EQ(parse_field_layout(to_string(f)), f);
  for (DimOrder o : {DimOrder::C, DimOrder::F}) EXPECT_EQ(parse_dim_order(to_string(o)), o);
  EXPECT_EQ(to_string(DimOrder::C), "C_order");
  EXPECT_EQ(to_string(FieldLayout::AOS), "AOS");
  EXPECT_FALSE(parse_dim_order("C").has_value());
  EXPECT_FALSE(parse_field_layout("Compact").has_value());
}

TEST(Layout, DefaultsToSoaFOrderWithoutAlignment) {
  const Layout l;
  EXPECT_EQ(l.fields, FieldLayout::SOA);
  EXPECT_EQ(l.order, DimOrder::F);
  EXPECT_EQ(l.alignment, 0);
  EXPECT_FALSE(l.compact || l.exact);
}

using AppleId = Id<struct AppleTag>;

TEST(Ids, DefaultIsNoneAndIndexIsTheValue) {
  EXPECT_FALSE(AppleId{}.valid());
  EXPECT_EQ(AppleId{}.value, -1);
  const AppleId a = AppleId::at(3);
  EXPECT_TRUE(a.valid());
  EXPECT_EQ(a.value, 3);
  EXPECT_EQ(a.index(), 3u);
  EXPECT_LT(AppleId{2}, a);
  EXPECT_EQ(a, AppleId{3});
  std::unordered_set<AppleId> set{a, AppleId{3}, AppleId{4}};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Words, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("lassen", "lassen"), 0u);
  EXPECT_EQ(edit_distance("lasen", "lassen"), 1u);    // an insertion
  EXPECT_EQ(edit_distance("lasssen", "lassen"), 1u);  // a deletion
  EXPECT_EQ(edit_distance("lassan", "lassen"), 1u);   // a substitution
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(Words, ClosestWordIsTheOneTheUserProbablyMeant) {
  const std::vector<std::string_view> machines{"p100x4", "lassen", "perlmutter"};
  EXPECT_EQ(closest_word("LASSEN", machines), "lassen");    // another case
  EXPECT_EQ(closest_word("perl", machines), "perlmutter");  // the only prefix
  EXPECT_EQ(closest_word("lasen", machines), "lassen");     // one edit
  EXPECT_EQ(closest_word("p100x8", machines), "p100x4");
  EXPECT_EQ(closest_word("summit", machines), "");  // nothing close
  EXPECT_EQ(closest_word("", machines), "");
  EXPECT_EQ(closest_word("lassen", {}), "");
}

TEST(Words, AnAmbiguousWordHasNoClosest) {
  // Two candidates share the prefix and two are one edit away: neither is clearly meant.
  EXPECT_EQ(closest_word("sum", {"summa", "summary"}), "");
  EXPECT_EQ(closest_word("cat", {"bat", "hat"}), "");
  // A short word allows one edit, not two.
  EXPECT_EQ(closest_word("abc", {"xyc"}), "");
}

// The JSON library's tag goes, its words stay; text that has no tag is left alone.
TEST(JsonText, DropsTheLibrarysTagOnly) {
  EXPECT_EQ(without_json_tag("[json.exception.type_error.316] invalid UTF-8 byte at index 3: 0xE9"),
            "invalid UTF-8 byte at index 3: 0xE9");
  EXPECT_EQ(without_json_tag("[json.exception.parse_error.101] parse error at line 1, column 2: x"),
            "parse error at line 1, column 2: x");
  EXPECT_EQ(without_json_tag("results.json:3: value [a] is not a number"), "results.json:3: value [a] is not a number");
  EXPECT_EQ(without_json_tag("[json.exception.unclosed"), "[json.exception.unclosed");
  EXPECT_EQ(without_json_tag(""), "");
}

}  // namespace
}  // namespace mage::kinds
