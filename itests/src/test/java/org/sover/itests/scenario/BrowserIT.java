package org.sover.itests.scenario;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;

import org.junit.After;
import org.junit.Before;
import org.junit.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.sover.itests.NodeProcess;
import org.sover.itests.TestImages;

/**
 * A family member in Debian's Chromium (headless): sets up a new node with its setup code,
 * signs out and in, creates an album, uploads six
 * images through the file picker and sees their thumbnails; screenshots at desktop and
 * phone width land in target/screenshots.
 */
public class BrowserIT {
    private static final String PASSWORD = "browser-test-password";
    private static final Path CHROMIUM = Paths.get("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Paths.get("/usr/bin/chromedriver");
    private static final Path SHOTS = Paths.get("target/screenshots");
    private NodeProcess node;
    private WebDriver driver;
    private Path profile;

    @Before
    public void start() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new AssertionError("The browser test needs Debian's chromium and chromium-driver: "
                    + "apt-get install -y chromium chromium-driver (./run-tests.sh does this)");
        }
        node = NodeProcess.create("browser", Map.of()).start().awaitHealthy(Duration.ofSeconds(90));
        profile = Files.createTempDirectory("sover-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // The flags keep Chromium from calling home: this machine reaches no other host.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-quic", "--no-first-run", "--user-data-dir=" + profile, "--window-size=1280,900");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        Files.createDirectories(SHOTS);
    }

    @After
    public void stop() throws Exception {
        if (driver != null) {
            driver.quit();
        }
        if (node != null) {
            node.close();
        }
    }

    @Test
    public void setUpSignInCreateAnAlbumUploadTwoImagesAndSeeTheirThumbnails() throws Exception {
        String code = Files.readString(node.data.resolve("setup-code")).strip();
        driver.get("http://127.0.0.1:" + node.httpPort + "/");
        testid("setup-code").sendKeys(code);
        testid("setup-username").sendKeys("grandma");
        testid("setup-password").sendKeys(PASSWORD);
        testid("setup-password-confirm").sendKeys(PASSWORD);
        shot("setup");
        testid("setup-submit").click();
        waitFor("[data-testid=albums-empty-create], [data-testid=album-create]");

        // Sign out and back in, as on any other day.
        testid("logout").click(); // asks for confirmation only while uploads are running
        testid("login-username").sendKeys("grandma");
        testid("login-password").sendKeys(PASSWORD);
        shot("login");
        testid("login-submit").click();

        WebElement create = waitFor("[data-testid=albums-empty-create], [data-testid=album-create]");
        shot("albums-empty");
        create.click();
        testid("album-name-input").sendKeys("Grandma's 90th");
        testid("album-dialog-submit").click();
        // A new album opens at once, ready for photos.
        new WebDriverWait(driver, Duration.ofSeconds(30))
                .until(d -> testid("album-title").getText().contains("Grandma's 90th"));

        // Many files at once, JPEG and PNG, landscape and portrait: the UI sends three at a time.
        Path dir = Files.createTempDirectory("sover-upload-");
        StringBuilder files = new StringBuilder();
        String[] names = {"lake.jpg", "cake.jpg", "garden.png", "hills.jpg", "porch.png", "sunset.jpg"};
        for (int i = 0; i < names.length; i++) {
            Path f = dir.resolve(names[i]);
            boolean portrait = i % 3 == 1;
            Files.write(f, TestImages.image(names[i].endsWith(".png") ? "png" : "jpg", portrait ? 1000 : 1800,
                    portrait ? 1400 : 1200, 90 + i));
            files.append(files.length() == 0 ? "" : "\n").append(f.toAbsolutePath());
        }
        WebElement input = waitForPresent("[data-testid=upload-input]");
        input.sendKeys(files.toString());

        new WebDriverWait(driver, Duration.ofSeconds(60)).until(d -> loadedThumbnails() == names.length);
        assertEquals(names.length, driver.findElements(By.cssSelector("[data-testid=photo-tile]")).size());
        assertEquals(names.length, driver.findElements(By.cssSelector("[data-testid=upload-item]")).size());
        shot("album-upload-desktop");
        testid("upload-panel-close").click();
        driver.findElements(By.cssSelector("[data-testid=toast-close]")).forEach(WebElement::click);
        new WebDriverWait(driver, Duration.ofSeconds(10))
                .until(d -> d.findElements(By.cssSelector("[data-testid=toast], [data-testid=upload-panel]")).stream()
                        .noneMatch(WebElement::isDisplayed));
        shot("album-desktop");

        driver.manage().window().setSize(new Dimension(360, 740));
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> loadedThumbnails() == names.length);
        shot("album-phone");
        driver.findElements(By.cssSelector("[data-testid=photo-tile]")).get(0).click();
        waitFor("[data-testid=viewer]");
        shot("viewer-phone");
        driver.manage().window().setSize(new Dimension(1280, 900));
        shot("viewer-desktop");
        testid("viewer-close").click();
        driver.get("http://127.0.0.1:" + node.httpPort + "/#/albums");
        WebElement card = waitFor("[data-testid=album-card]");
        assertTrue(card.getText(), card.getText().contains("Grandma's 90th") && card.getText().contains("6 photos"));
        new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> ((Number) ((JavascriptExecutor) d).executeScript(
                "return Array.from(document.querySelectorAll('[data-testid=album-card] img'))"
                        + ".filter(i => i.complete && i.naturalWidth > 0).length;")).longValue() == 1);
        shot("albums-desktop");
        driver.manage().window().setSize(new Dimension(360, 740));
        shot("albums-phone");

        List<LogEntry> severe = driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue()).toList();
        assertTrue("no console errors: " + severe, severe.isEmpty());
    }

    private long loadedThumbnails() {
        Object n = ((JavascriptExecutor) driver).executeScript(
                "return Array.from(document.querySelectorAll('[data-testid=photo-tile] img'))"
                        + ".filter(i => i.complete && i.naturalWidth > 0).length;");
        return ((Number) n).longValue();
    }

    private WebElement testid(String id) {
        return waitFor("[data-testid='" + id + "']");
    }

    private WebElement waitFor(String css) {
        return new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> d.findElements(By.cssSelector(css))
                .stream().filter(WebElement::isDisplayed).findFirst().orElse(null));
    }

    private WebElement waitForPresent(String css) {
        return new WebDriverWait(driver, Duration.ofSeconds(30)).until(d -> d.findElements(By.cssSelector(css))
                .stream().findFirst().orElse(null));
    }

    private void shot(String name) throws Exception {
        File f = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
        Files.copy(f.toPath(), SHOTS.resolve(name + ".png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
