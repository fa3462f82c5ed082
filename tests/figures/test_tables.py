"""What leaves the team: small counts become "< 5", and a figure over 1 to 4 cases is not shown."""

from mas.services.figures.tables import COUNT, PERCENT, TEXT, Column, Table, suppressed, to_csv


def test_small_counts_and_figures_over_few_cases_are_suppressed():
    table = Table("t", "T", (Column("School", TEXT), Column("Deelnemers"), Column("Vsv'ers", COUNT),
                             Column("Percentage", PERCENT, base=2)),
                  [["A", 300, 3, 1.0], ["B", 1250, 18, 1.44], ["C", 80, 0, 0.0], ["D", 4, 0, 0.0]])
    assert suppressed(table, 5) == [["A", 300, "< 5", "n.v.t. (< 5)"], ["B", 1250, 18, 1.4], ["C", 80, 0, 0.0],
                                    ["D", "< 5", 0, 0.0]]
    assert to_csv(table, 5).splitlines()[1] == "A;300;< 5;n.v.t. (< 5)"


def test_a_row_of_percentages_follows_the_row_it_was_computed_over():
    table = Table("t", "T", (Column("", TEXT), Column("Totaal"), Column("X")),
                  [["due", 6, 3], ["within", 3, 1], ["rate", 50.0, 33.333]], percent_rows={2: 0})
    assert suppressed(table, 5)[2] == ["rate", 50.0, "n.v.t. (< 5)"]
