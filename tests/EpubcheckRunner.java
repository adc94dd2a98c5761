// Validates many EPUBs in one JVM with the EPUBCheck API (see tests/epubcheck_runner.py).
// Output, one line each, tab-separated, tabs/newlines in text replaced by spaces:
//   MSG <index> <severity> <id> <path> <line> <column> <message>
//   END <index> <fatal> <error> <warning>
import com.adobe.epubcheck.api.EPUBLocation;
import com.adobe.epubcheck.api.EpubCheck;
import com.adobe.epubcheck.api.MasterReport;
import com.adobe.epubcheck.messages.Message;
import com.adobe.epubcheck.messages.Severity;
import com.adobe.epubcheck.util.FeatureEnum;
import java.io.File;
import java.io.PrintStream;

public class EpubcheckRunner {
  static PrintStream out;

  static String clean(Object s) {
    return s == null ? "" : s.toString().replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
  }

  static class Collect extends MasterReport {
    final int index;
    int fatal, error, warning;
    Collect(int index) { this.index = index; }

    @Override
    public void message(Message m, EPUBLocation loc, Object... args) {
      Severity s = m.getSeverity();
      if (s == Severity.FATAL) fatal++;
      else if (s == Severity.ERROR) error++;
      else if (s == Severity.WARNING) warning++;
      else return;  // usage/info/suppressed: not reported
      out.println("MSG\t" + index + "\t" + s + "\t" + m.getID() + "\t"
          + clean(loc == null ? "" : loc.getPath()) + "\t" + (loc == null ? -1 : loc.getLine())
          + "\t" + (loc == null ? -1 : loc.getColumn()) + "\t" + clean(m.getMessage(args)));
    }

    @Override public void info(String resource, FeatureEnum feature, String value) {}
    @Override public int generate() { return 0; }
    @Override public void initialize() {}
  }

  public static void main(String[] args) throws Exception {
    out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, "UTF-8");
    // EPUBCheck (and its libraries) may print to stdout: keep our protocol on the real stdout only.
    System.setOut(System.err);
    for (int i = 0; i < args.length; i++) {
      Collect report = new Collect(i);
      try {
        new EpubCheck(new File(args[i]), report).doValidate();
      } catch (Throwable t) {
        report.fatal++;
        out.println("MSG\t" + i + "\tFATAL\tRUNNER\t" + clean(args[i]) + "\t-1\t-1\t" + clean(t));
      }
      out.println("END\t" + i + "\t" + report.fatal + "\t" + report.error + "\t" + report.warning);
    }
  }
}
