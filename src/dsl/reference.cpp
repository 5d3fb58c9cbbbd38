// The compact language reference (dsl::language_reference). The reserved words come from
// the lexer's table and the rule keywords from the parser's; the example mapper and every
// transform line are compiled and evaluated by tests/dsl/reference_test.cpp, so the text
// cannot describe a language the code does not accept.
#include <fmt/format.h>

#include "dsl/ast.h"
#include "dsl/dsl.h"
#include "dsl/lexer.h"

namespace mage::dsl {

namespace {

std::string words_of(std::initializer_list<Tok> kinds) {
  std::string out;
  for (Tok kind : kinds)
    for (const auto& [spelling, tok] : keyword_table())
      if (tok == kind) {
        if (!out.empty()) out += ' ';
        out += spelling;
      }
  return out;
}

struct RuleForm {
  StmtKind kind;
  const char* operands;
  const char* meaning;
};

// The rule statements in the order a mapper usually lists them.
constexpr RuleForm kRuleForms[] = {
    {StmtKind::TaskRule, "NAMES KIND{,KIND};",
     "processor kinds to try in order; a kind is skipped when the machine has none or the task has no variant "
     "for it. Default: GPU if the task has a GPU variant, else OMP, else CPU."},
    {StmtKind::RegionRule, "TASK ARG PROCKIND MEM{,MEM};",
     "memories to try in order for argument ARG of TASK when it runs on PROCKIND (a kind or *); the first that "
     "exists, is visible from the processor and has room is used. ARG: a region or partition name, an argument "
     "index (0-based) or *. Default: FBMEM on GPU, SYSMEM on CPU, SOCKMEM on OMP. VIRTUAL means no instance "
     "(only for tasks that just launch other tasks)."},
    {StmtKind::LayoutRule, "TASK ARG KIND CONSTRAINT*;",
     "layout of the instance; KIND: a memory kind, a processor kind or *. Constraints: SOA or AOS (field-major "
     "or record-major), C_order or F_order (last or first index fastest), Align OP INT (OP: == != < <= > >=), "
     "No_Align, Compact, Exact. Default: SOA F_order."},
    {StmtKind::InstanceLimit, "NAMES INT;",
     "at most INT of these tasks launched from one processor are mapped and unfinished at a time: bounds the "
     "memory their data takes, and serialises them."},
    {StmtKind::CollectMemory, "TASK ARG;",
     "read-only data of the matching arguments is not kept after the task, so its memory can be reused."},
    {StmtKind::IndexTaskMap, "KEYS FUNC;",
     "each point of an index launch runs where FUNC(task) says. KEYS: task names, a processor kind (every task "
     "mapped to that kind) or *."},
    {StmtKind::SingleTaskMap, "KEYS FUNC;", "the same for single (non-index) launches."},
    {StmtKind::ControlReplicate, "NAMES;", "the tasks run replicated, one copy per node (changes launch cost only)."},
};

// Every rule form at least once; it compiles and binds on a machine of 2 nodes x 4 GPUs.
constexpr const char* kExampleMapper = R"(Task * GPU,OMP,CPU;
Task init_piece,init_pointers CPU;
Region * * GPU FBMEM;
Region * rp_ghost GPU ZCMEM,FBMEM;
Region distribute_charge 1 GPU ZCMEM;
Layout * * * SOA C_order;
Layout * * ZCMEM AOS Align==64;
InstanceLimit task_4 1;
CollectMemory task_4 *;
ControlReplicate top_level;
mgpu = Machine(GPU);  # (nodes, GPUs per node)
# point i of a 1-D launch: the nodes' GPUs filled in order
def block1d(Task task) {
  ip = task.ipoint;
  return mgpu[ip[0] / mgpu.size[1], ip[0] % mgpu.size[1]];
}
IndexTaskMap calculate_new_currents,update_voltages block1d;
# a d-D launch in blocks over the nodes (split to the launch's shape), cyclic over each node's GPUs
def block_cyclic(Task task) {
  d = task.ispace.len;
  nodes = mgpu.auto_split(0, task.ispace);
  grid = nodes.auto_split(d, task.ispace / nodes[:-1]);
  upper = task.ipoint * grid[:d] / task.ispace;
  lower = task.ipoint % grid[d:];
  return grid[*upper, *lower];
}
IndexTaskMap task_1,task_2 block_cyclic;
# on the GPU of the parent task
def same_point(Task task) { return mgpu[*task.parent.processor(mgpu)]; }
SingleTaskMap task_4 same_point;
# any GPU of the parent's node
def parent_node(Task task) { return mgpu[task.parent.processor(mgpu)[0], *]; }
SingleTaskMap GPU parent_node;
)";

}  // namespace

std::string language_reference() {
  std::string out;
  out += "THE MAPPING LANGUAGE\n";
  out +=
      "A mapper is a list of statements, each ending in ';'. Comments run from '#' or '//' to the end of the "
      "line. Names: letters, digits and '_', not starting with a digit. Integers are 64-bit; strings \"...\" "
      "appear only in print.\n";
  out += fmt::format("Rule keywords: {}\n",
                     words_of({Tok::KwTask, Tok::KwRegion, Tok::KwLayout, Tok::KwInstanceLimit, Tok::KwCollectMemory,
                               Tok::KwIndexTaskMap, Tok::KwSingleTaskMap, Tok::KwControlReplicate}));
  out += fmt::format("Other reserved words: {}\n", words_of({Tok::KwDef, Tok::KwReturn, Tok::KwPrint, Tok::KwTuple,
                                                             Tok::KwFor, Tok::KwIn, Tok::KwTrue, Tok::KwFalse}));
  out += fmt::format("Parameter types: {} {}\n", words_of({Tok::KwTask}),
                     words_of({Tok::KwInt, Tok::KwBool, Tok::KwIPoint, Tok::KwISpace, Tok::KwMSpace}));
  out += fmt::format("Processor kinds: {}\n", words_of({Tok::ProcKind}));
  out += fmt::format("Memory kinds: {}\n", words_of({Tok::MemKind}));
  out += fmt::format("Layout words: {}\n", words_of({Tok::LayoutWord}));

  out +=
      "\nRULES (NAMES: *, a task name, or a comma list a,b,c; TASK: a name or *; of two rules with the same "
      "key the first wins)\n";
  for (const auto& form : kRuleForms)
    out += fmt::format("{} {}\n  {}\n", stmt_keyword(form.kind), form.operands, form.meaning);
  out +=
      "Which rule applies: Task: the exact name, else *, else the default. Region: the memories of the rules "
      "for (task, arg), (task, *), (*, arg), (*, *) in that order, a rule for the exact processor kind before a "
      "* one; an argument matches by its index, its region's name, its partition's name and that partition's "
      "parent region. Layout: the first rule in the same order. IndexTaskMap/SingleTaskMap: the task's name, "
      "then the kind it was mapped to, then *; without one, an index launch is spread in blocks over the nodes "
      "and then over each node's processors, and single launches go round-robin. Tasks that only launch "
      "other tasks get no instances whatever Region says (reduction-only arguments excepted), so Region and "
      "Layout rules matter for leaf tasks.\n";

  out += "\nFUNCTIONS AND VALUES\n";
  out += "NAME = EXPR;  a global at top level (assigned once), a local in a function.\n";
  out +=
      "def NAME(TYPE NAME, ...) { STMT* }  body: assignments, return EXPR;, print(\"x={}\", e); a function "
      "must be defined before it is used.\n";
  out +=
      "A placement function (IndexTaskMap, SingleTaskMap) takes one Task and returns one processor, or a set of "
      "processors (an index with *), of the kind the task was mapped to.\n";
  out += "Values: integers, True/False, tuples (a, b) or (a,), machine spaces, tasks.\n";
  out +=
      "Operators from low to high precedence: ?:  ||  &&  == !=  < <= > >=  + -  * / %  unary - ! *(unpack)  "
      "postfix () [] . ; / and % truncate toward zero, and by zero is an error.\n";
  out +=
      "Tuples: + - * / % element-wise with a tuple of the same length or an int; t[i] (negative counts from the "
      "end), t[a:b], t.len, t.volume (product), *t unpacks into an argument or index list, "
      "tuple(EXPR for NAME in TUPLE).\n";
  out +=
      "Task: task.ipoint (the point being placed), task.ispace (the launch extents), task.parent, "
      "task.processor(m) (where the task runs, as a point of machine space m).\n";

  out += "\nMACHINE SPACES\n";
  out +=
      "Machine(KIND) is a 2-D space of size (nodes, processors of KIND per node). m[i, j] is one processor; "
      "* in a position means every processor along it (the runtime picks one). m.size, m.len (dims), m.volume, "
      "m[a:b] (the sizes of dims a..b-1, e.g. m[:-1]). Each transform returns a new space whose points stand "
      "for processors of the original; with m = Machine(GPU) on 2 nodes x 4 GPUs:\n";
  out +=
      "  m.split(1, 2) -> size (2, 2, 2): dim d becomes (f, size[d] / f); point (.., i, j, ..) is index i + j*f of dim "
      "d\n";
  out += "  m.merge(0, 1) -> size (8): dims d1 and d2 become one; k is (k / size[d2], k % size[d2])\n";
  out += "  m.swap(0, 1) -> size (4, 2): the two dims exchanged\n";
  out += "  m.slice(1, 1, 2) -> size (2, 2): dim d keeps lo..hi; i is i + lo\n";
  out += "  m.reverse(1) -> size (2, 4): i is size[d] - 1 - i\n";
  out +=
      "  m.balance_split(1, 2) -> size (2, 2, 2): dim d becomes n dims (n = 2 or 3) as equal as possible, "
      "largest first\n";
  out +=
      "  m.auto_split(0, (4, 4)) -> size (2, 1, 4): dim d becomes one dim per launch dim, shaped to minimise the "
      "communication surface of a block of that launch\n";
  out += "  m.greedy_split(0, (4, 8)) -> size (1, 2, 4): as auto_split, by the greedy choice only\n";
  out += "The per-node block of a launch: task.ispace / m[:-1] (element-wise).\n";

  out += "\nEXAMPLE\n";
  out += kExampleMapper;
  return out;
}

}  // namespace mage::dsl
